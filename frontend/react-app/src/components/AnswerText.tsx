import { Fragment } from "react";
import { UnstyledButton } from "@mantine/core";

/** An answer with its [n] markers turned into buttons that open source n. */
export function AnswerText({ text, known, onCite }: { text: string; known: Set<number>; onCite: (n: number) => void }) {
  const parts = text.split(/(\[\d+\])/g);
  return (
    <span style={{ whiteSpace: "pre-wrap" }}>
      {parts.map((part, i) => {
        const m = /^\[(\d+)\]$/.exec(part);
        const n = m ? Number(m[1]) : NaN;
        if (m && known.has(n)) {
          return (
            <UnstyledButton key={i} component="button" type="button" onClick={() => onCite(n)}
              aria-label={`Open source ${n}`} className="cite"
              style={{ color: "var(--mantine-color-blue-8)", fontWeight: 600, padding: "0 2px", textDecoration: "underline" }}>
              [{n}]
            </UnstyledButton>
          );
        }
        return <Fragment key={i}>{part}</Fragment>;
      })}
    </span>
  );
}
