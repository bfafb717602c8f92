"""OnnxClipEmbedder (a user's own CLIP/SigLIP ONNX pair) against tiny ONNX graphs made here:
no real CLIP weights can be downloaded, so this checks the plumbing and the config errors,
not the quality of any model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.image_fixtures import photo

DIM = 4


def _image_model(path: Path, dim: int = DIM, size: int = 32) -> Path:
    """(N, 3, size, size) -> mean colour per channel -> (N, dim) by a fixed matrix."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [3, dim],
                                np.arange(3 * dim, dtype=np.float32).tolist())
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["pixels"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["embeds"])],
        "image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["N", dim])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _text_model(path: Path, dim: int = DIM, length: int = 8) -> Path:
    """input_ids (N, length) -> float -> (N, dim) by a fixed matrix."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [length, dim],
                                np.linspace(-1, 1, length * dim, dtype=np.float32).tolist())
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
         helper.make_node("MatMul", ["ids", "w"], ["embeds"])],
        "text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", length])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["N", dim])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "a": 2, "cat": 3, "cup": 4, "of": 5, "coffee": 6}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


def test_a_clip_pair_embeds_images_and_texts_into_one_space(tmp_path: Path) -> None:
    from app.providers.vision.clip_onnx import OnnxClipEmbedder

    emb = OnnxClipEmbedder(_image_model(tmp_path / "img.onnx"),
                           _text_model(tmp_path / "txt.onnx"), _tokenizer(tmp_path / "t.json"))
    assert (emb.dim, emb.size, emb.context, emb.supports_text) == (DIM, (32, 32), 8, True)
    assert emb.model_name == "onnx-clip:img"
    image = np.asarray(emb.embed(photo("chelsea")))
    text = np.asarray(emb.embed_text("a cat"))
    assert image.shape == text.shape == (DIM,)
    assert abs(np.linalg.norm(image) - 1) < 1e-5 and abs(np.linalg.norm(text) - 1) < 1e-5
    assert not np.allclose(emb.embed_text("a cat"), emb.embed_text("coffee cup"))


def test_missing_or_unreadable_model_files_are_clear_config_errors(tmp_path: Path) -> None:
    from app.providers.vision import VisionConfigError
    from app.providers.vision.clip_onnx import OnnxClipEmbedder

    with pytest.raises(VisionConfigError, match="needs IMAGE_CLIP_IMAGE_MODEL"):
        OnnxClipEmbedder(None, None, None)
    with pytest.raises(VisionConfigError, match="is not a file"):
        OnnxClipEmbedder(tmp_path / "nowhere.onnx", None, None)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(VisionConfigError, match="not a loadable ONNX model"):
        OnnxClipEmbedder(junk, None, None)


def test_a_mismatched_pair_or_missing_tokenizer_is_refused(tmp_path: Path) -> None:
    from app.providers.vision import VisionConfigError
    from app.providers.vision.clip_onnx import OnnxClipEmbedder

    image = _image_model(tmp_path / "img.onnx")
    with pytest.raises(VisionConfigError, match="different sizes"):
        OnnxClipEmbedder(image, _text_model(tmp_path / "t6.onnx", dim=6), None)
    with pytest.raises(VisionConfigError, match="IMAGE_CLIP_TOKENIZER"):
        OnnxClipEmbedder(image, _text_model(tmp_path / "t.onnx"), None)
    image_only = OnnxClipEmbedder(image, None, None)
    assert not image_only.supports_text
    with pytest.raises(VisionConfigError, match="IMAGE_CLIP_TEXT_MODEL"):
        image_only.embed_text("a cat")


def test_the_migration_dimension_comes_from_the_configured_embedder(tmp_path: Path) -> None:
    from app.core.config import Settings
    from app.providers.vision import VisionConfigError, image_embedding_dim

    assert image_embedding_dim(Settings(image_embedder="efficientnet-lite0")) == 1280
    clip = Settings(image_embedder="onnx-clip",
                    image_clip_image_model=_image_model(tmp_path / "i.onnx", dim=6))
    assert image_embedding_dim(clip) == 6
    with pytest.raises(VisionConfigError):
        image_embedding_dim(Settings(image_embedder="onnx-clip"))
