"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.auth.models import ApiKey, RefreshToken, User
from app.chat.models import Conversation, Message
from app.collections.models import Collection, CollectionShare
from app.documents.models import Chunk, Document, DocumentImage, DocumentStatus
from app.evalsets.models import EvalSet
from app.images.models import ImageVector
from app.labels.models import Label, LabelerRun, LabelJob, Taxonomy
from app.search.models import ChunkTerm, CollectionTerm
from app.spaces.models import EmbeddingSpace, SpaceVector

__all__ = [
    "ApiKey",
    "Chunk",
    "ChunkTerm",
    "Collection",
    "CollectionShare",
    "CollectionTerm",
    "Conversation",
    "Document",
    "DocumentImage",
    "DocumentStatus",
    "EmbeddingSpace",
    "EvalSet",
    "ImageVector",
    "Label",
    "LabelJob",
    "LabelerRun",
    "Message",
    "RefreshToken",
    "SpaceVector",
    "Taxonomy",
    "User",
]
