"""Cairn's testing console: a Gradio UI that talks only to the REST API.

Run: `python frontend/gradio-interface/app.py`. API_BASE_URL (default http://127.0.0.1:8000)
is the API; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860) where the console
listens. Each visitor signs in (email + password through the API; the tokens stay in that
browser session's state and are refreshed when they expire) or pastes an API key; without
either, every tab says "sign in first". CAIRN_API_KEY stands in for visitors who did not sign
in ONLY when the console listens on loopback and CONSOLE_USE_SERVER_KEY=true. HTTP calls live
in api_client.py, what each button does in console_handlers.py (console_tools.py: the Tasks,
Labels and Evaluate tabs); this file only wires components.
"""

from __future__ import annotations

import os
from typing import Any

import console_chat
import console_handlers as h
import console_images as images
import console_render as render
import console_tools
import gradio as gr
from api_client import Auth, Credentials, env_base_url

CSS = """
.cairn-hit { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; margin: 6px 0; }
.cairn-snippet { margin-top: 4px; line-height: 1.5; }
.cairn-snippet mark { background: #ffe08a; padding: 0 2px; border-radius: 2px; }
"""
STATUS_CHOICES = [("any status", h.ALL)] + [(s, s) for s in h.STATUSES]
DEFAULT_MODES = ("hybrid", "vector", "lexical")
DEFAULT_GROUP_BYS = ("chunk", "document")


def _table(kind: str, headers: list[str], label: str) -> gr.Dataframe:
    return gr.Dataframe(
        column_widths=render.COLUMN_WIDTHS[kind],
        headers=headers,
        value=[],
        label=label,
        interactive=False,
        wrap=True,
        column_count=len(headers),
    )


def _who(creds: Credentials) -> str:
    return creds.describe()


def _on_load(base: str, key: Auth) -> tuple[Any, ...]:
    """Fill the collection pickers, show search options the API supports, check health."""
    choices, _ = h.collection_choices(base, key)
    caps = h.search_capabilities(base, key)
    modes = caps.modes or DEFAULT_MODES
    groups = caps.group_bys or DEFAULT_GROUP_BYS
    supported = [
        name for name, ok in (("mode", caps.has_mode), ("group_by", caps.has_group_by)) if ok
    ]
    note = (
        f"This API's search accepts: {', '.join(supported)}."
        if supported
        else "This API's search takes query, k and collection (no mode/group_by yet)."
    )
    health_rows, health_msg = h.health(base, key)
    return (
        gr.update(choices=choices, value=h.ALL),
        gr.update(choices=choices, value=h.ALL),
        gr.update(visible=caps.has_mode, choices=list(modes), value=modes[0]),
        gr.update(visible=caps.has_group_by, choices=list(groups), value=groups[0]),
        note,
        health_rows,
        health_msg,
    )


def _refresh_collections(base: str, key: Auth, current: str | None) -> tuple[Any, str]:
    choices, msg = h.collection_choices(base, key)
    values = {value for _, value in choices}
    return gr.update(choices=choices, value=current if current in values else h.ALL), msg


def _on_row_select(evt: gr.SelectData) -> str:
    row = evt.row_value or []
    return str(row[-1]) if row else ""


def _open_document(base: str, key: Auth, doc_id: str) -> tuple[Any, ...]:
    details, chunks, msg = h.document_details(base, key, doc_id)
    if details is None:
        return details, chunks, msg, None, [], ""
    return (details, chunks, msg, *images.image_view(base, key, doc_id))


def _download(base: str, key: Auth, doc_id: str) -> tuple[Any, str]:
    path, msg = h.download_document(base, key, doc_id)
    return gr.update(value=path, visible=path is not None), msg


def _confirm_delete(base: str, key: Auth, doc_id: str, status: str, coll: str) -> tuple[Any, ...]:
    msg = h.delete_document(base, key, doc_id)
    rows, list_msg = h.list_documents(base, key, status, coll)
    deleted = msg.startswith("Deleted")
    return (
        msg,
        gr.update(visible=False),
        rows,
        list_msg,
        None if deleted else gr.update(),
        [] if deleted else gr.update(),
        "" if deleted else doc_id,
    )


def build_ui(base_url: str | None = None) -> gr.Blocks:
    """The whole console as a Blocks app (not launched)."""
    api_base = (base_url or env_base_url()).rstrip("/")
    demo = gr.Blocks(title="Cairn console", analytics_enabled=False)
    with demo:
        base = gr.State(api_base)
        gr.Markdown(f"# Cairn testing console\nAPI: `{api_base}`")
        # Per browser session: who the console acts for (never shared between visitors).
        creds = gr.State(Credentials())
        with gr.Accordion("Sign in", open=True):
            with gr.Row():
                si_email = gr.Textbox(label="Email", scale=2)
                si_password = gr.Textbox(label="Password", type="password", scale=2)
                si_button = gr.Button("Sign in", variant="primary", scale=1)
            with gr.Row():
                si_key = gr.Textbox(
                    label="…or an API key", type="password", placeholder="ck_…", scale=4
                )
                si_key_button = gr.Button("Use this key", scale=1)
                si_out = gr.Button("Sign out", scale=1)
            si_msg = gr.Markdown()
        with gr.Tabs():
            with gr.Tab("Upload"):
                up_files = gr.File(label="Files", file_count="multiple", type="filepath")
                with gr.Row():
                    up_collection = gr.Textbox(label="Collection", placeholder="default")
                    up_reingest = gr.Checkbox(label="Re-ingest if already known", value=False)
                    up_wait = gr.Number(label="Wait for the ingest (s; 0: answer at once)",
                                        value=0, minimum=0, maximum=120)
                up_metadata = gr.Textbox(
                    label="Metadata (optional JSON object, stored with each file)",
                    placeholder='{"source": "handbook", "year": 2024}',
                    lines=2,
                )
                up_button = gr.Button("Upload", variant="primary")
                up_msg = gr.Markdown()
                up_table = _table("upload", render.UPLOAD_HEADERS, "Accepted (HTTP 202)")

            with gr.Tab("Documents"):
                with gr.Row():
                    doc_status = gr.Dropdown(STATUS_CHOICES, value=h.ALL, label="Status")
                    doc_collection = gr.Dropdown(
                        [("all collections", h.ALL)],
                        value=h.ALL,
                        label="Collection",
                        allow_custom_value=True,
                    )
                    doc_refresh = gr.Button("Refresh", variant="primary")
                    doc_auto = gr.Checkbox(label="Auto-refresh every 3 s", value=False)
                doc_msg = gr.Markdown()
                doc_table = _table("documents", render.DOCUMENT_HEADERS, "Documents (newest first)")
                with gr.Row():
                    doc_id = gr.Textbox(
                        label="Document id", placeholder="click a row, or paste an id"
                    )
                    doc_open = gr.Button("Open")
                detail_msg = gr.Markdown()
                with gr.Row():
                    doc_download = gr.Button("Download original")
                    doc_delete = gr.Button("Delete…", variant="stop")
                with gr.Row(visible=False) as confirm_row:
                    gr.Markdown("**Delete this document, its chunks and (if unshared) its file?**")
                    confirm_yes = gr.Button("Yes, delete", variant="stop")
                    confirm_no = gr.Button("Cancel")
                doc_file = gr.File(label="Original file", interactive=False, visible=False)
                with gr.Row():
                    doc_thumb = gr.Image(label="Thumbnail", type="filepath", interactive=False,
                                         height=220)
                    image_msg = gr.Markdown()
                label_table = _table("labels", images.LABEL_HEADERS, "Labels")
                doc_json = gr.JSON(label="Details", open=True)
                chunk_table = _table("chunks", render.CHUNK_HEADERS, "Chunks")
                timer = gr.Timer(3, active=False)

            with gr.Tab("Search"):
                with gr.Row():
                    s_query = gr.Textbox(
                        label="Query", scale=4, placeholder="what are you looking for?"
                    )
                    s_k = gr.Slider(1, 100, value=10, step=1, label="k")
                with gr.Row():
                    s_collection = gr.Dropdown(
                        [("all collections", h.ALL)],
                        value=h.ALL,
                        label="Collection",
                        allow_custom_value=True,
                    )
                    s_mode = gr.Dropdown(
                        list(DEFAULT_MODES), value="hybrid", label="Mode", visible=False
                    )
                    s_group = gr.Dropdown(
                        list(DEFAULT_GROUP_BYS), value="chunk", label="Group by", visible=False
                    )
                    s_reload = gr.Button("Reload collections")
                s_caps = gr.Markdown()
                s_button = gr.Button("Search", variant="primary")
                s_msg = gr.Markdown()
                s_table = _table("search", render.SEARCH_HEADERS, "Results")
                s_html = gr.HTML(label="Highlighted snippets")

            with gr.Tab("Chat"):
                with gr.Row():
                    c_message = gr.Textbox(label="Question", scale=4,
                                           placeholder="ask your documents")
                    c_collection = gr.Textbox(label="Collection (empty: all)", scale=1)
                with gr.Row():
                    c_button = gr.Button("Ask", variant="primary")
                    c_new = gr.Button("New conversation")
                c_conv = gr.Textbox(label="Conversation", interactive=False)
                c_msg = gr.Markdown()
                c_answer = gr.Markdown(label="Answer")
                c_sources = gr.Markdown()

            console_tools.build_tabs(base, creds)  # Tasks, Labels, Evaluate

            with gr.Tab("Health"):
                hl_button = gr.Button("Check readiness", variant="primary")
                hl_msg = gr.Markdown()
                hl_table = _table("health", render.HEALTH_HEADERS, "GET /api/health/ready")

        # --- wiring --------------------------------------------------------------------
        up_button.click(
            h.upload_files,
            [base, creds, up_files, up_collection, up_metadata, up_reingest, up_wait],
            [up_table, up_msg],
        )

        list_inputs = [base, creds, doc_status, doc_collection]
        doc_refresh.click(h.list_documents, list_inputs, [doc_table, doc_msg])
        doc_status.change(h.list_documents, list_inputs, [doc_table, doc_msg])
        doc_collection.change(h.list_documents, list_inputs, [doc_table, doc_msg])
        timer.tick(h.list_documents, list_inputs, [doc_table, doc_msg])
        doc_auto.change(lambda on: gr.Timer(active=bool(on)), doc_auto, timer)
        open_outputs = [doc_json, chunk_table, detail_msg, doc_thumb, label_table, image_msg]
        doc_table.select(_on_row_select, None, doc_id).then(
            _open_document, [base, creds, doc_id], open_outputs
        )
        doc_open.click(_open_document, [base, creds, doc_id], open_outputs)
        doc_id.submit(_open_document, [base, creds, doc_id], open_outputs)
        doc_download.click(_download, [base, creds, doc_id], [doc_file, detail_msg])
        doc_delete.click(lambda: gr.update(visible=True), None, confirm_row)
        confirm_no.click(lambda: gr.update(visible=False), None, confirm_row)
        confirm_yes.click(
            _confirm_delete,
            [base, creds, doc_id, doc_status, doc_collection],
            [detail_msg, confirm_row, doc_table, doc_msg, doc_json, chunk_table, doc_id],
        )

        search_inputs = [base, creds, s_query, s_k, s_collection, s_mode, s_group]
        s_button.click(h.run_search, search_inputs, [s_table, s_html, s_msg])
        s_query.submit(h.run_search, search_inputs, [s_table, s_html, s_msg])
        s_reload.click(_refresh_collections, [base, creds, s_collection], [s_collection, s_msg])

        chat_inputs = [base, creds, c_message, c_collection, c_conv]
        chat_outputs = [c_answer, c_sources, c_conv, c_msg]
        c_button.click(console_chat.ask, chat_inputs, chat_outputs)
        c_message.submit(console_chat.ask, chat_inputs, chat_outputs)
        c_new.click(lambda: ("", "", "", ""), None, chat_outputs)

        hl_button.click(h.health, [base, creds], [hl_table, hl_msg])
        load_outputs = [s_collection, doc_collection, s_mode, s_group, s_caps, hl_table, hl_msg]
        demo.load(_who, creds, si_msg).then(
            _on_load, [base, creds], load_outputs
        ).then(h.list_documents, list_inputs, [doc_table, doc_msg])
        # Signing in, pasting a key or signing out reloads what depends on who is asking.
        for event, fn, inputs in (
            (si_button.click, h.sign_in, [base, creds, si_email, si_password]),
            (si_password.submit, h.sign_in, [base, creds, si_email, si_password]),
            (si_key_button.click, h.use_api_key, [creds, si_key]),
            (si_key.submit, h.use_api_key, [creds, si_key]),
            (si_out.click, h.sign_out, [creds]),
        ):
            event(fn, inputs, [creds, si_msg]).then(
                lambda: ("", ""), None, [si_password, si_key]
            ).then(_on_load, [base, creds], load_outputs).then(
                h.list_documents, list_inputs, [doc_table, doc_msg]
            )
    return demo


def main() -> None:
    demo = build_ui()
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        css=CSS,
        footer_links=[],
    )


if __name__ == "__main__":
    main()
