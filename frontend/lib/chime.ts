// The optional sound of an approval request: two short tones from the Web Audio API, no file
// to fetch. The browser lets it play once the person has interacted with the page.
let context: AudioContext | null = null;

export function chime(): void {
  if (typeof window === "undefined" || typeof window.AudioContext !== "function") return;
  context ??= new window.AudioContext();
  const audio = context;
  if (audio.state === "suspended") void audio.resume().catch(() => undefined);
  const start = audio.currentTime;
  for (const [offset, frequency] of [
    [0, 660],
    [0.16, 880],
  ] as const) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.15, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.32);
  }
}
