import { readSSE } from "./sse";

function stream(chunks: string[]) {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({ start(c) { chunks.forEach((s) => c.enqueue(enc.encode(s))); c.close(); } });
}

test("events split across chunks are reassembled; comments are skipped", async () => {
  const out = [];
  for await (const m of readSSE(stream(["event: tok", "en\r\ndata: {\"text\":\"Hi\"}\r\n\r\n: ping\r\n\r\n", "event: done\ndata: {}\n\n"]))) out.push(m);
  expect(out).toEqual([{ event: "token", data: '{"text":"Hi"}' }, { event: "done", data: "{}" }]);
});

test("an unterminated last event is not emitted", async () => {
  const out = [];
  for await (const m of readSSE(stream(["event: token\ndata: x\n"]))) out.push(m);
  expect(out).toEqual([]);
});
