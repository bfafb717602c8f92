"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.auth.models import ApiKey, RefreshToken, User
from app.chat.models import Conversation, Message
from app.collections.models import Collection, CollectionShare
from app.documents.models import Chunk, Document, DocumentStatus
from app.evalsets.models import EvalSet
from app.labels.models import Label
from app.search.models import ChunkTerm, CollectionTerm

__all__ = [
    "ApiKey",
    "Chunk",
    "ChunkTerm",
    "Collection",
    "CollectionShare",
    "CollectionTerm",
    "Conversation",
    "Document",
    "DocumentStatus",
    "EvalSet",
    "Label",
    "Message",
    "RefreshToken",
    "User",
]
