import { describe, expect, it } from "vitest";
import { ERROR_TEXTS_EN, ERROR_TEXTS_PT_BR } from "@/lib/error_texts";
import { errorText, translator } from "@/lib/i18n";

const pt = translator("pt-BR");
const en = translator("en");

describe("the catalogue", () => {
  it("words plurals by CLDR's rules, not with (s)", () => {
    expect(pt("diff.added", { n: 1 })).toBe("1 linha adicionada");
    expect(pt("diff.added", { n: 0 })).toBe("0 linha adicionada"); // pt: 0 takes the singular
    expect(pt("diff.added", { n: 2 })).toBe("2 linhas adicionadas");
    expect(en("diff.added", { n: 0 })).toBe("0 lines added");
    expect(en("diff.removed", { n: 1 })).toBe("1 line removed");
    expect(pt("approval.queue", { n: 1500 })).toBe("+1.500 pedidos na fila");
    expect(en("approval.moreLines", { n: 3 })).toBe("… 3 more lines");
  });

  it("has no text that counts with (s)", () => {
    const texts = [...Object.values(ERROR_TEXTS_PT_BR), ...Object.values(ERROR_TEXTS_EN)];
    for (const key of ["diff.added", "diff.removed", "approval.queue", "approval.moreLines"] as const) {
      texts.push(pt(key, { n: 2 }), en(key, { n: 2 }));
    }
    expect(texts.filter((text) => /\w\((s|es|ns)\)/.test(text))).toEqual([]);
  });

  it("words every server error code itself, whatever language the server wrote", () => {
    expect(errorText(en, "Não autorizado. Verifique sua ANTHROPIC_API_KEY.", "unauthorized")).toBe(
      "Unauthorized. Check your ANTHROPIC_API_KEY.",
    );
    expect(errorText(pt, "invalid_json", "invalid_json")).toBe("O servidor recusou uma mensagem malformada.");
    expect(Object.keys(ERROR_TEXTS_EN).sort()).toEqual(Object.keys(ERROR_TEXTS_PT_BR).sort());
  });

  it("shows the server's text for a code this UI does not know yet", () => {
    expect(errorText(en, "Something new happened.", "some_future_code")).toBe("Something new happened.");
  });
});
