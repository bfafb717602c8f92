import { accessToken, refresh } from "./auth";
import type { Schemas } from "./client";

export type Uploaded = Schemas["UploadedDocument"];

/** Upload one file with XHR (fetch has no upload progress); onProgress gets 0..1. */
export async function uploadFile(file: File, collection: string | null,
  onProgress: (fraction: number) => void): Promise<Uploaded> {
  if (!accessToken()) await refresh();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/documents");
    const token = accessToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new Error("Network error during upload"));
    xhr.onload = () => {
      let body: { documents?: Uploaded[]; error?: { code: string; message: string } } = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body.documents?.length) {
        onProgress(1);
        resolve(body.documents[0]);
      } else {
        reject(new Error(body.error ? `${body.error.code}: ${body.error.message}` : `Upload failed (${xhr.status})`));
      }
    };
    const form = new FormData();
    form.append("files", file, file.name);
    if (collection) form.append("collection", collection);
    xhr.send(form);
  });
}
