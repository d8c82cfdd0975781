import type { NextConfig } from "next";

// A static export: the backend serves `out/` at `/` on its own port (see README).
const nextConfig: NextConfig = {
  output: "export",
  distDir: process.env.NEXT_DIST_DIR || ".next",
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
