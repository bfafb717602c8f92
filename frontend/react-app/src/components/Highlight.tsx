import { Fragment } from "react";

const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
const decode = (s: string) => s.replace(/&(lt|gt|amp|quot|#x27|#39);/g, (m) => ENTITIES[m] ?? m);

/** An API snippet (HTML-escaped text with <mark> around matches) rendered without innerHTML. */
export function Highlight({ html }: { html: string }) {
  const parts = html.split(/(<mark>[\s\S]*?<\/mark>)/g);
  return (
    <>
      {parts.map((p, i) => p.startsWith("<mark>")
        ? <mark key={i}>{decode(p.slice(6, -7))}</mark>
        : <Fragment key={i}>{decode(p)}</Fragment>)}
    </>
  );
}
