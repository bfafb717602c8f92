"""Images as documents: what a picture shows (object labels, a searchable description),
similar images (an image vector per document), safety (NSFW score) and near-duplicates
(perceptual hash)."""
