"""Queries of the chat domain. Nothing here commits (chat/service.py does)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.chat.models import Conversation, Message
from app.collections.access import readable_filter
from app.documents.models import Document


def get_conversation(session: Session, conversation_id: uuid.UUID,
                     user_id: uuid.UUID) -> Conversation | None:
    """The conversation if it belongs to the user; another user's is as absent as a missing one."""
    return session.scalar(
        select(Conversation).where(Conversation.id == conversation_id,
                                   Conversation.user_id == user_id)
    )


def list_conversations(session: Session, user_id: uuid.UUID, limit: int,
                       offset: int) -> tuple[list[Conversation], int]:
    total = session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
    ) or 0
    rows = session.scalars(
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def messages(session: Session, conversation_id: uuid.UUID,
             last: int | None = None) -> list[Message]:
    """The conversation's messages in order (only the `last` few when given)."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if last is not None:
        inner = query.order_by(Message.id.desc()).limit(last).subquery()
        return list(session.scalars(
            select(Message).join(inner, inner.c.id == Message.id).order_by(Message.id)
        ).all())
    return list(session.scalars(query.order_by(Message.id)).all())


def delete_conversation(session: Session, conversation: Conversation) -> None:
    session.execute(delete(Message).where(Message.conversation_id == conversation.id))
    session.delete(conversation)


def readable_documents(session: Session, principal: Principal,
                       document_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the documents the principal may read now (a share may have been revoked)."""
    if not document_ids:
        return set()
    rows = session.scalars(
        select(Document.id).where(Document.id.in_(document_ids),
                                  readable_filter(Document.collection_id, principal))
    )
    return set(rows)


def touch(session: Session, conversation: Conversation) -> None:
    conversation.updated_at = func.now()
