"""The INSTRUCTOR loss: cross-entropy over cosine similarity / temperature, with same-label masking."""

from __future__ import annotations

from typing import Any

import torch

from .config import TrainConfig


def _instructor_loss_class():
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    class InstructorLoss(MultipleNegativesRankingLoss):
        """Cross-entropy over cos-sim / temperature: the positive against all in-batch positives and all
        hard negatives (the paper's loss; ``MultipleNegativesRankingLoss`` with ``scale = 1/temperature``).

        When the batch carries ``label`` of shape ``(batch, 2)`` -- the class id of each row's anchor (and
        positive) and of its hard negative, as medi's classification sets provide -- candidates of the
        anchor's own class other than its positive are masked out instead of being pushed away.
        """

        def __init__(self, model, temperature: float = 0.01, mask_same_label_negatives: bool = True) -> None:
            super().__init__(model, scale=1.0 / temperature)
            self.mask_same_label_negatives = mask_same_label_negatives

        def compute_loss_from_embeddings(self, embeddings: list[torch.Tensor], labels) -> torch.Tensor:
            if labels is None or not self.mask_same_label_negatives or not isinstance(labels, torch.Tensor) \
                    or labels.ndim != 2:
                return super().compute_loss_from_embeddings(embeddings, labels)
            queries, docs = embeddings[0], embeddings[1:]
            n = queries.size(0)
            scores = self.similarity_fct(queries, torch.cat(docs, dim=0)) * self.scale  # (n, n * len(docs))
            labels = labels.to(queries.device)
            # class of every candidate: positives share their anchor's class, negatives have their own
            candidate_labels = torch.cat([labels[:, 0]] + [labels[:, 1]] * (len(docs) - 1))
            same = labels[:, 0:1] == candidate_labels.unsqueeze(0)
            rows = torch.arange(n, device=queries.device)
            same[rows, rows] = False  # never mask the row's own positive
            scores = scores.masked_fill(same, float("-inf"))
            return torch.nn.functional.cross_entropy(scores, rows)

        def get_config_dict(self) -> dict[str, Any]:
            return {"temperature": self.temperature, "scale": self.scale,
                    "mask_same_label_negatives": self.mask_same_label_negatives}

        @property
        def citation(self) -> str:
            return """
@inproceedings{su-etal-2023-one,
    title = "One Embedder, Any Task: Instruction-Finetuned Text Embeddings",
    author = "Su, Hongjin and Shi, Weijia and Kasai, Jungo and Wang, Yizhong and Hu, Yushi and Ostendorf, Mari and Yih, Wen-tau and Smith, Noah A. and Zettlemoyer, Luke and Yu, Tao",
    booktitle = "Findings of the Association for Computational Linguistics: ACL 2023",
    year = "2023",
    url = "https://aclanthology.org/2023.findings-acl.71",
}
"""

    return InstructorLoss


def build_loss(model, config: TrainConfig):
    if config.loss == "cached_mnrl":
        from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

        return CachedMultipleNegativesRankingLoss(model, scale=1.0 / config.temperature,
                                                  mini_batch_size=config.mini_batch_size)
    return _instructor_loss_class()(model, config.temperature, config.mask_same_label_negatives)
