// Tokens live in memory and in sessionStorage (this tab only); refreshed before they expire.
export interface Tokens { access_token: string; refresh_token: string; expires_in: number }

const KEY = "cairn.tokens";
type Listener = (signedIn: boolean) => void;

let tokens: Tokens | null = null;
let expiresAt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

function load(): void {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw) {
      const saved = JSON.parse(raw) as Tokens & { expiresAt: number };
      tokens = saved;
      expiresAt = saved.expiresAt;
    }
  } catch { tokens = null; }
}
load();

function set(next: Tokens | null): void {
  tokens = next;
  clearTimeout(timer);
  if (next) {
    expiresAt = Date.now() + next.expires_in * 1000;
    sessionStorage.setItem(KEY, JSON.stringify({ ...next, expiresAt }));
    // refresh a minute early (or at half-life for short tokens)
    const lead = Math.min(60_000, (next.expires_in * 1000) / 2);
    timer = setTimeout(() => { void refresh(); }, Math.max(1000, expiresAt - Date.now() - lead));
  } else {
    sessionStorage.removeItem(KEY);
  }
  listeners.forEach((l) => l(next !== null));
}

export function onAuthChange(l: Listener): () => void { listeners.add(l); return () => listeners.delete(l); }
export function isSignedIn(): boolean { return tokens !== null; }
export function accessToken(): string | null { return tokens?.access_token ?? null; }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

export async function errorOf(resp: Response): Promise<ApiError> {
  let code = `http_${resp.status}`;
  let message = resp.statusText || "Request failed";
  try {
    const body = await resp.json();
    if (body?.error) { code = body.error.code ?? code; message = body.error.message ?? message; }
    else if (body?.detail) { message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); }
  } catch { /* not JSON */ }
  return new ApiError(resp.status, code, message);
}

export async function signIn(email: string, password: string): Promise<void> {
  const resp = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!resp.ok) throw await errorOf(resp);
  set((await resp.json()) as Tokens);
}

export function refresh(): Promise<boolean> {
  if (!tokens) return Promise.resolve(false);
  if (refreshing) return refreshing;
  const body = JSON.stringify({ refresh_token: tokens.refresh_token });
  refreshing = fetch("/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body })
    .then(async (resp) => {
      if (!resp.ok) { set(null); return false; }
      set((await resp.json()) as Tokens);
      return true;
    })
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}

export async function signOut(): Promise<void> {
  const t = tokens;
  set(null);
  if (t) {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${t.access_token}` },
      body: JSON.stringify({ refresh_token: t.refresh_token }),
    }).catch(() => undefined);
  }
}

/** fetch with the access token; on a 401 refresh once and retry. */
export async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const make = () => {
    const req = new Request(input, init);
    const token = accessToken();
    if (token && !req.headers.has("Authorization")) req.headers.set("Authorization", `Bearer ${token}`);
    return req;
  };
  if (tokens && Date.now() > expiresAt - 5000) await refresh();
  const first = make();
  const retry = first.clone();
  const resp = await fetch(first);
  if (resp.status === 401 && tokens && (await refresh())) {
    const token = accessToken();
    if (token) retry.headers.set("Authorization", `Bearer ${token}`);
    return fetch(retry);
  }
  return resp;
}
