import { act, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Composer } from "@/components/composer";
import { renderChat } from "../helpers/render_chat";

const messages = (h: ReturnType<typeof renderChat>) =>
  h.socket.frames.filter((f) => f.event === "user_message");

describe("composer", () => {
  it("sends on Enter and clears; Shift+Enter adds a line", async () => {
    const h = renderChat(<Composer />, { locale: "en" });
    const input = screen.getByRole("textbox", { name: "Message" });
    await h.user.type(input, "first line{Shift>}{Enter}{/Shift}second line");
    expect(input).toHaveValue("first line\nsecond line");
    expect(messages(h)).toEqual([]);
    await h.user.keyboard("{Enter}");
    expect(messages(h)).toEqual([
      { event: "user_message", data: { text: "first line\nsecond line" } },
    ]);
    expect(input).toHaveValue("");
  });

  it("does not send empty or blank text", async () => {
    const h = renderChat(<Composer />, { locale: "en" });
    const input = screen.getByRole("textbox", { name: "Message" });
    await h.user.type(input, "   {Enter}");
    expect(messages(h)).toEqual([]);
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });

  it("is disabled while a reply runs, offers Stop, and comes back when it ends", async () => {
    const h = renderChat(<Composer />, { locale: "en" });
    const input = screen.getByRole("textbox", { name: "Message" });
    await h.user.type(input, "hello{Enter}");
    expect(input).toBeDisabled();
    await h.user.click(screen.getByRole("button", { name: "Stop" }));
    expect(h.socket.frames.at(-1)).toEqual({ event: "cancel", data: {} });
    h.receive(h.f.chunk("partial"), h.f.done("cancelled"));
    expect(input).toBeEnabled();
    expect(input).toHaveFocus();
    expect(screen.getByRole("button", { name: "Send" })).toBeInTheDocument();
  });

  it("cannot send while disconnected", async () => {
    const h = renderChat(<Composer />, { locale: "en" });
    act(() => h.socket.drop());
    const input = screen.getByRole("textbox", { name: "Message" });
    await h.user.type(input, "hello{Enter}");
    expect(messages(h)).toEqual([]);
    expect(input).toHaveValue("hello");
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });
});
