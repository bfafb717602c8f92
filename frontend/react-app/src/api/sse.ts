// Server-sent events over fetch (POST bodies and Authorization headers, unlike EventSource).
export interface SSEMessage { event: string; data: string; id?: string }

export async function* readSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEMessage> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let msg: SSEMessage = { event: "message", data: "" };
  let hasData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl: number;
      while ((nl = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
        if (line === "") {
          if (hasData) yield msg;
          msg = { event: "message", data: "" };
          hasData = false;
        } else if (!line.startsWith(":")) {
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "event") msg.event = val;
          else if (field === "data") { msg.data = hasData ? `${msg.data}\n${val}` : val; hasData = true; }
          else if (field === "id") msg.id = val;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
