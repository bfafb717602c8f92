import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderUI } from "../test/render";
import { AnswerText } from "./AnswerText";

test("known [n] markers become buttons that open their source", async () => {
  const onCite = vi.fn();
  renderUI(<AnswerText text="Basalt cools slowly [1] and cracks [2]." known={new Set([1, 2])} onCite={onCite} />);
  await userEvent.click(screen.getByRole("button", { name: "Open source 2" }));
  expect(onCite).toHaveBeenCalledWith(2);
  expect(screen.getAllByRole("button")).toHaveLength(2);
});

test("a marker with no such source stays plain text", () => {
  renderUI(<AnswerText text="See [7] and [x]." known={new Set([1])} onCite={() => {}} />);
  expect(screen.queryByRole("button")).toBeNull();
  expect(screen.getByText(/See \[7\] and \[x\]\./)).toBeTruthy();
});

test("text between markers is never interpreted as HTML", () => {
  const { container } = renderUI(<AnswerText text={"<img src=x onerror=alert(1)> [1]"} known={new Set([1])} onCite={() => {}} />);
  expect(container.querySelector("img")).toBeNull();
});
