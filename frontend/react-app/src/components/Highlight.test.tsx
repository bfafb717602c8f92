import { render } from "@testing-library/react";
import { Highlight } from "./Highlight";

test("<mark> from the API is kept and escaped text stays text", () => {
  const { container } = render(<p><Highlight html={"a &lt;b&gt; <mark>basalt</mark> &amp; more"} /></p>);
  expect(container.querySelector("mark")?.textContent).toBe("basalt");
  expect(container.querySelector("b")).toBeNull();
  expect(container.textContent).toBe("a <b> basalt & more");
});
