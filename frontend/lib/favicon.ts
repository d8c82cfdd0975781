// The page's icon, drawn as SVG: the gate on indigo, and a variant with a red badge counting
// the approvals that wait (app/icon.svg is the plain one, the file the page links to).

const GATE =
  '<rect width="32" height="32" rx="7" fill="#4f46e5"/>' +
  '<g fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" transform="translate(4 4)">' +
  '<path d="M4 21V9l8-5 8 5v12"/><path d="M9 21v-7h6v7"/><path d="M4 21h16"/></g>';

/** The icon with a badge: the count up to 9, then "9+". */
export function badgedIconSvg(count: number): string {
  const label = count > 9 ? "9+" : String(Math.max(count, 1));
  const size = label.length > 1 ? 11 : 13;
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
    GATE +
    '<circle cx="23" cy="9" r="9" fill="#dc2626" stroke="#fff" stroke-width="1.5"/>' +
    `<text x="23" y="13.5" text-anchor="middle" font-family="Arial,Helvetica,sans-serif" font-size="${size}" font-weight="700" fill="#fff">${label}</text>` +
    "</svg>"
  );
}

export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
