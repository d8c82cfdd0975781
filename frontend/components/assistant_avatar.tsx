import { SparkIcon } from "./icons";

export function AssistantAvatar() {
  return (
    <span
      aria-hidden="true"
      className="mt-0.5 grid size-8 shrink-0 place-items-center rounded-full bg-gradient-to-br from-orange-400 to-amber-600 text-base text-white shadow-sm"
    >
      <SparkIcon />
    </span>
  );
}
