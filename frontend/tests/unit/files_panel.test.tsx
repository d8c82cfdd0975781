// The Files panel on the Sheet primitive (Radix Dialog): a labelled modal that takes focus,
// closes on Esc or its close button and gives focus back to the Files button; and a dialog
// opened over a sheet closes on its own Esc, leaving the sheet open.
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useRef, useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { FilesPanel } from "@/components/files_panel";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Sheet } from "@/components/ui/sheet";
import type { FileHistory, FilesApi, FileState, FileVersion } from "@/lib/files_api";
import { localePreference } from "@/lib/preferences";
import { FilesApiContext } from "@/lib/use_files_api";

const state = (hash: string): FileState => ({ exists: true, hash, kept: true, size: 4 });

const VERSION: FileVersion = {
  id: 7,
  path: "notes/a.txt",
  source: "tool",
  before: state("h0"),
  after: state("h1"),
  conversation_id: "s1",
  conversation_title: "escreva",
  turn: 0,
  created_at: 1_700_000_000,
  tool_use_id: "toolu_1",
  undone_by: null,
};

function fakeApi(): FilesApi {
  const history: FileHistory = { path: "notes/a.txt", changed_outside: false, current: state("h1"), versions: [VERSION] };
  return {
    list: vi.fn(async () => ({
      files: [{ path: "notes/a.txt", exists: true, changed_outside: false, modified: 0, size: 4, versioned: true }],
      truncated: false,
    })),
    history: vi.fn(async () => history),
    content: vi.fn(async () => "text"),
    downloadUrl: () => "/download",
    restore: vi.fn(async () => [VERSION]),
    changes: vi.fn(async () => []),
    undo: vi.fn(async () => []),
    redo: vi.fn(async () => []),
  };
}

function Page({ api }: { api: FilesApi }) {
  const [open, setOpen] = useState(false);
  const filesRef = useRef<HTMLButtonElement>(null);
  return (
    <FilesApiContext.Provider value={api}>
      <button type="button" ref={filesRef} data-testid="files-open" onClick={() => setOpen(true)}>
        Arquivos
      </button>
      {open && <FilesPanel onClose={() => setOpen(false)} returnFocus={() => filesRef.current} />}
    </FilesApiContext.Provider>
  );
}

async function openPanel() {
  localePreference.set("pt-BR");
  const api = fakeApi();
  const user = userEvent.setup();
  render(<Page api={api} />);
  await user.click(screen.getByTestId("files-open"));
  const panel = screen.getByRole("dialog", { name: "Arquivos do workspace" });
  return { api, user, panel };
}

describe("files panel", () => {
  it("is a labelled modal that takes focus and hides the page behind it", async () => {
    const { panel } = await openPanel();
    expect(panel).toHaveAttribute("aria-modal", "true");
    expect(panel).toHaveAttribute("data-testid", "files-panel");
    expect(panel).toHaveFocus();
    await within(panel).findByTestId("files-entry");
    // The page behind is hidden from role queries; by test id it is still there.
    expect(screen.queryByRole("button", { name: "Arquivos" })).toBeNull();
    expect(screen.getByTestId("files-open")).toBeInTheDocument();
  });

  it("closes on Esc and gives focus back to the Files button", async () => {
    const { user } = await openPanel();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("files-panel")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("files-open")).toHaveFocus());
  });

  it("closes on its close button and gives focus back to the Files button", async () => {
    const { user, panel } = await openPanel();
    await user.click(within(panel).getByRole("button", { name: "Fechar arquivos" }));
    expect(screen.queryByTestId("files-panel")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("files-open")).toHaveFocus());
  });

  it("restores a version from inside the panel", async () => {
    const { api, user, panel } = await openPanel();
    await user.click(await within(panel).findByTestId("files-entry"));
    const version = await within(panel).findByTestId("file-version");
    await user.click(within(version).getByRole("button", { name: "Restaurar" }));
    expect(await within(panel).findByTestId("files-notice")).toHaveTextContent("Arquivo restaurado.");
    expect(api.restore).toHaveBeenCalledWith(7, "after", "h1");
  });
});

describe("a dialog over a sheet", () => {
  function Nested() {
    const [sheet, setSheet] = useState(true);
    const [dialog, setDialog] = useState(false);
    return sheet ? (
      <Sheet title="Sheet" closeLabel="Close" onEscape={() => setSheet(false)} testId="sheet">
        <Button onClick={() => setDialog(true)}>Ask</Button>
        {dialog && (
          <Dialog title="Sure?" onEscape={() => setDialog(false)} testId="inner" footer={<Button>Yes</Button>} />
        )}
      </Sheet>
    ) : null;
  }

  it("closes on its own Esc, then the sheet's Esc closes the sheet, and focus goes back in between", async () => {
    const user = userEvent.setup();
    render(<Nested />);
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(screen.getByRole("dialog", { name: "Sure?" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("inner")).toBeNull();
    expect(screen.getByTestId("sheet")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("button", { name: "Ask" })).toHaveFocus());
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("sheet")).toBeNull();
  });
});
