// The badges of the hints an MCP server declares about a tool (its `annotations`), read as
// MCP defines them: destructive and idempotent mean something only for a tool that is not
// read-only. The hints are the server's claims: shown, never used to decide anything.
import type { MessageKey } from "./i18n";
import type { ToolAnnotations } from "./protocol";

export type HintTone = "safe" | "danger" | "neutral" | "reach";

export interface HintBadge {
  key: MessageKey;
  tone: HintTone;
}

export function hintBadges(hints: ToolAnnotations | null): HintBadge[] {
  if (!hints) return [];
  const badges: HintBadge[] = [];
  if (hints.read_only_hint === true) {
    badges.push({ key: "hint.readOnly", tone: "safe" });
  } else {
    if (hints.destructive_hint === true) badges.push({ key: "hint.destructive", tone: "danger" });
    if (hints.destructive_hint === false) badges.push({ key: "hint.additive", tone: "neutral" });
    if (hints.idempotent_hint === true) badges.push({ key: "hint.idempotent", tone: "neutral" });
  }
  if (hints.open_world_hint === true) badges.push({ key: "hint.openWorld", tone: "reach" });
  if (hints.open_world_hint === false) badges.push({ key: "hint.closedWorld", tone: "neutral" });
  return badges;
}

/** The server declares that the tool may destroy data (and does not call it read-only). */
export function declaredDestructive(hints: ToolAnnotations | null): boolean {
  return hints?.read_only_hint !== true && hints?.destructive_hint === true;
}
