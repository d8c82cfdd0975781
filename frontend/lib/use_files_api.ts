"use client";
import { createContext, useContext, useState } from "react";
import { browserFilesApi, type FilesApi } from "./files_api";

/** Tests put a stand-in here; the page uses the backend it was served by. */
export const FilesApiContext = createContext<FilesApi | null>(null);

export function useFilesApi(): FilesApi {
  const given = useContext(FilesApiContext);
  const [own] = useState(() => given ?? browserFilesApi());
  return given ?? own;
}
