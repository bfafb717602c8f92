import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderUI } from "../test/render";
import { SignIn } from "./SignIn";

afterEach(() => vi.unstubAllGlobals());

test("a refused sign-in shows the API's message", async () => {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(
    JSON.stringify({ error: { code: "invalid_credentials", message: "Wrong email or password." } }),
    { status: 401, headers: { "Content-Type": "application/json" } })));
  renderUI(<SignIn />);
  await userEvent.type(screen.getByLabelText(/Email/), "a@b.test");
  await userEvent.type(screen.getByLabelText(/Password/), "nope");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
  expect((await screen.findByRole("alert")).textContent).toContain("Wrong email or password.");
});

test("a good sign-in stores the tokens for this tab", async () => {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(
    JSON.stringify({ access_token: "A", refresh_token: "R", token_type: "bearer", expires_in: 900 }),
    { status: 200, headers: { "Content-Type": "application/json" } })));
  const done = vi.fn();
  renderUI(<SignIn onSignedIn={done} />);
  await userEvent.type(screen.getByLabelText(/Email/), "a@b.test");
  await userEvent.type(screen.getByLabelText(/Password/), "right");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
  await vi.waitFor(() => expect(done).toHaveBeenCalled());
  expect(sessionStorage.getItem("cairn.tokens")).toContain('"access_token":"A"');
});
