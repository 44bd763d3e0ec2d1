"""DIET's and the ResponseSelector's prediction for one message, computed with NumPy from the trained weights.

Why: for one message the TensorFlow call costs far more than its arithmetic. Measured on this machine
(bench/profile-*.txt, BENCHMARKS.md) DIET's `run_inference` took about 6 ms per message, most of it
TensorFlow's input conversion, signature checks and op dispatch for a model whose matrices are small
(one 128-unit transformer layer over a dozen tokens). The same forward pass in NumPy takes a fraction of
a millisecond.

What: `NumpyTextModel` reads the weights of a trained `DIET`, `DIET2BOW` or `DIET2DIET` (Rasa 3.6's TensorFlow
models of DIETClassifier and of ResponseSelector without / with a transformer) once and computes, for the sparse features of one message, exactly what
their `batch_predict` computes for intent (or response) classification at inference:
sparse-to-dense layers (sequence and sentence features), the sentence features placed after the tokens,
the feed-forward layers, the transformer encoder (embedding, positional encoding, pre-norm self-attention
and feed-forward blocks, final layer norm, gelu), the "last token" vector (the sentence position for DIET;
the last real token for DIET2DIET, as Rasa does), the text embedding, the similarity with every label
embedding and the softmax. Float32 like TensorFlow; tests/test_fast_inference.py checks that both paths
give the same ranking and confidences (to 1e-4) on every held-out message, for both components.

What it does not do: anything Rasa's model does that this one cannot reproduce exactly. A model with
entity recognition, dense features, relative attention, a unidirectional encoder, dimension unification,
or a message whose features do not fit the model is left to Rasa's TensorFlow path
(`NumpyInferenceMixin._predict` falls back), and so is any run that asks for diagnostic data (`rasa test`
with diagnostics). FILMBOT_TF_INFERENCE=1 forces the TensorFlow path (used by the test and the benchmark).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.constants import FEATURIZERS
from scipy.special import erf

logger = logging.getLogger(__name__)

_SQRT_HALF = np.float32(np.sqrt(0.5))


class Unsupported(Exception):
    """The trained model uses something NumpyTextModel does not reproduce."""


def _np(value: Any) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    # tf.nn.gelu(approximate=False)
    return (np.float32(0.5) * x * (np.float32(1.0) + erf(x * _SQRT_HALF))).astype(np.float32, copy=False)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _is_linear(activation: Any) -> bool:
    return activation is None or getattr(activation, "__name__", "") == "linear"


def _is_gelu(activation: Any) -> bool:
    return getattr(activation, "__name__", "") == "gelu"


class _Dense:
    """A Keras Dense / RandomlyConnectedDense / DenseForSparse at inference: x @ (kernel * mask) + bias."""

    def __init__(self, layer: Any) -> None:
        kernel = _np(layer.kernel)
        mask = getattr(layer, "kernel_mask", None)
        if mask is not None:
            kernel = kernel * _np(mask)
        self.kernel = np.ascontiguousarray(kernel)
        self.bias = _np(layer.bias) if getattr(layer, "use_bias", False) and layer.bias is not None else None
        if _is_linear(layer.activation):
            self.gelu = False
        elif _is_gelu(layer.activation):
            self.gelu = True
        else:
            raise Unsupported(f"activation {layer.activation!r}")

    def sparse(self, blocks: List[Any]) -> np.ndarray:
        """The layer applied to the column-wise concatenation of sparse blocks (one per featuriser, in the
        order Rasa combines them), without building it: the kernel rows of the message's few non-zero
        features, weighted, (rows x nnz) @ (nnz x units). Float32 like TensorFlow (scipy would copy the whole
        kernel to the float64 of the counts)."""
        rows, cols, values, offset = [], [], [], 0
        for block in blocks:
            block = block.tocoo()
            rows.append(block.row)
            cols.append(block.col + offset)
            values.append(block.data)
            offset += block.shape[1]
        row, col, value = np.concatenate(rows), np.concatenate(cols), np.concatenate(values)
        weights = np.zeros((blocks[0].shape[0], len(col)), dtype=np.float32)
        weights[row, np.arange(len(col))] = value
        return self._finish(weights @ self.kernel[col])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._finish(x @ self.kernel)

    def _finish(self, y: np.ndarray) -> np.ndarray:
        if self.bias is not None:
            y = y + self.bias
        return _gelu(y) if self.gelu else y


class _LayerNorm:
    def __init__(self, layer: Any) -> None:
        self.gamma = _np(layer.gamma) if layer.scale else None
        self.beta = _np(layer.beta) if layer.center else None
        self.eps = np.float32(layer.epsilon)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + self.eps)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return y.astype(np.float32, copy=False)


def _ffnn(layer: Any) -> List[_Dense]:
    dense = []
    for sub in layer._ffn_layers:
        if hasattr(sub, "kernel"):
            dense.append(_Dense(sub))
        elif type(sub).__name__ != "Dropout":
            raise Unsupported(f"feed-forward sublayer {type(sub).__name__}")
    return dense


class _EncoderLayer:
    def __init__(self, layer: Any) -> None:
        mha = layer._mha
        if mha.use_key_relative_position or mha.use_value_relative_position or mha.unidirectional:
            raise Unsupported("relative attention or unidirectional encoder")
        self.norm = _LayerNorm(layer._layer_norm)
        self.heads = mha.num_heads
        self.depth = mha._depth
        self.q = _Dense(mha._query_dense_layer)
        self.k = _Dense(mha._key_dense_layer)
        self.v = _Dense(mha._value_dense_layer)
        self.o = _Dense(mha._output_dense_layer)
        ffn = [sub for sub in layer._ffn_layers if type(sub).__name__ != "Dropout"]
        if len(ffn) != 3:
            raise Unsupported("transformer feed-forward block")
        self.ffn_norm = _LayerNorm(ffn[0])
        self.ffn_in = _Dense(ffn[1])
        self.ffn_out = _Dense(ffn[2])

    def _split(self, x: np.ndarray) -> np.ndarray:  # (length, units) -> (heads, length, depth)
        return x.reshape(x.shape[0], self.heads, self.depth).transpose(1, 0, 2)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        xn = self.norm(x)
        q, k, v = self._split(self.q(xn)), self._split(self.k(xn)), self._split(self.v(xn))
        logits = (q @ k.transpose(0, 2, 1)) / np.sqrt(np.float32(self.depth))
        attention = _softmax(logits) @ v  # (heads, length, depth)
        attention = attention.transpose(1, 0, 2).reshape(x.shape[0], self.heads * self.depth)
        x = x + self.o(attention)
        return x + self.ffn_out(self.ffn_in(self.ffn_norm(x)))


class _Encoder:
    def __init__(self, layer: Any) -> None:
        if layer.unidirectional:
            raise Unsupported("unidirectional encoder")
        self.units = layer.units
        self.embedding = _Dense(layer._embedding)
        self.layers = [_EncoderLayer(sub) for sub in layer._enc_layers]
        self.norm = _LayerNorm(layer._layer_norm)
        self.angles = np.asarray(layer._angles, dtype=np.float32).reshape(-1)
        self._positions: Dict[int, np.ndarray] = {}

    def _positional(self, length: int) -> np.ndarray:
        enc = self._positions.get(length)
        if enc is None:
            rads = np.arange(length, dtype=np.float32)[:, None] * self.angles[None, :]
            enc = np.where(np.arange(self.units) % 2 == 0, np.sin(rads), np.cos(rads)).astype(np.float32)
            if len(self._positions) < 512:
                self._positions[length] = enc
        return enc

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = self.embedding(x) * np.sqrt(np.float32(self.units))
        x = x + self._positional(x.shape[0])
        for layer in self.layers:
            x = layer(x)
        return _gelu(self.norm(x))


class NumpyTextModel:
    """The inference of a trained DIET / DIET2DIET for one message (see the module docstring)."""

    def __init__(self, tf_model: Any) -> None:
        kind = type(tf_model).__name__
        if kind not in ("DIET", "DIET2BOW", "DIET2DIET"):
            raise Unsupported(f"model class {kind}")
        config = tf_model.config
        if kind != "DIET2DIET" and (config.get("entity_recognition") or not config.get("intent_classification", True)):
            raise Unsupported("DIET with entity recognition or without intent classification")
        layers = tf_model._tf_layers
        sequence_layer = layers[f"sequence_layer.{tf_model.text_name}"]
        combining = sequence_layer._tf_layers[sequence_layer.FEATURE_COMBINING]
        self.present = dict(combining._feature_types_present)
        extra = [name for name in combining._tf_layers if not name.startswith("sparse_dense.")]
        if extra:
            raise Unsupported(f"feature combining layers {extra}")
        self.sparse: Dict[str, _Dense] = {}
        for feature_type, present in self.present.items():
            if not present:
                continue
            concat = combining._tf_layers[f"sparse_dense.{feature_type}"]
            if set(concat._tf_layers) - {concat.SPARSE_DROPOUT, concat.SPARSE_TO_DENSE, concat.DENSE_DROPOUT}:
                raise Unsupported("sparse/dense concatenation")
            if concat.SPARSE_TO_DENSE not in concat._tf_layers:
                raise Unsupported("dense features only")
            self.sparse[feature_type] = _Dense(concat._tf_layers[concat.SPARSE_TO_DENSE])
            if concat.output_units != self.sparse[feature_type].kernel.shape[1]:
                raise Unsupported("sparse and dense features combined")
        if "sequence" not in self.sparse:
            raise Unsupported("no sequence features")
        self.ffnn = _ffnn(sequence_layer._tf_layers[sequence_layer.FFNN])
        self.encoder = _Encoder(sequence_layer._tf_layers[sequence_layer.TRANSFORMER]) \
            if sequence_layer._has_transformer else None
        embed = layers["embed.text"]
        self.embed = _Dense(embed._dense)
        loss = layers["loss.label"]
        self.cosine = loss.similarity_type == "cosine"
        self.softmax = loss.model_confidence == "softmax"
        labels = tf_model.all_labels_embed
        if labels is None:
            _, labels = tf_model._create_all_labels()
        labels = _np(labels)
        if self.cosine:
            labels = labels / np.maximum(np.linalg.norm(labels, axis=-1, keepdims=True), 1e-12)
        self.labels_t = np.ascontiguousarray(labels.T)
        # DIET (and DIET2BOW, the ResponseSelector without a transformer) reads the sentence position
        # (tokens + 1 - 1); DIET2DIET's batch_predict passes only the token
        # count to `_last_token`, so it reads the last token's vector. Both as Rasa 3.6 does.
        self.sentence_position = kind != "DIET2DIET" and self.present.get("sentence", False)
        self.vocabulary = self.sparse["sequence"].kernel.shape[0]

    def fits(self, sequence: List[Any], sentence: List[Any]) -> bool:
        """Whether the message's sparse feature blocks are what the model was trained on."""
        if not sequence or sum(b.shape[1] for b in sequence) != self.vocabulary:
            return False
        if len({b.shape[0] for b in sequence}) != 1 or sequence[0].shape[0] == 0:
            return False
        if self.present.get("sentence", False):
            width = self.sparse["sentence"].kernel.shape[0]
            return bool(sentence) and all(b.shape[0] == 1 for b in sentence) \
                and sum(b.shape[1] for b in sentence) == width
        return not sentence

    def scores(self, sequence: List[Any], sentence: List[Any]) -> np.ndarray:
        """Confidences (1, labels), in the order of the model's labels, for one message's sparse features:
        `sequence` and `sentence` are the blocks of each featuriser (tokens x its vocabulary, 1 x its
        vocabulary) in the order Rasa concatenates them (Message.get_sparse_features)."""
        x = self.sparse["sequence"].sparse(sequence)
        tokens = x.shape[0]
        if "sentence" in self.sparse:
            x = np.vstack([x, self.sparse["sentence"].sparse(sentence)])
        for dense in self.ffnn:
            x = dense(x)
        if self.encoder is not None:
            x = self.encoder(x)
        vector = x[tokens if self.sentence_position else max(tokens - 1, 0)]
        embedded = self.embed(vector[None, :])
        if self.cosine:
            embedded = embedded / np.maximum(np.linalg.norm(embedded, axis=-1, keepdims=True), 1e-12)
        similarities = embedded @ self.labels_t
        return _softmax(similarities) if self.softmax else similarities


_blas_limited = False


def limit_blas_threads() -> None:
    """One BLAS thread (FILMBOT_BLAS_THREADS to change it). These matrices are tiny: OpenBLAS's second thread
    bought nothing per message but spun after every call, and doubled the Rasa process's CPU per message
    (measured from /proc: 43 -> 22 ms per message at 1 concurrent), CPU the action server and the other
    visitors' messages need."""
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    try:
        threads = max(1, int(os.environ.get("FILMBOT_BLAS_THREADS", "1")))
    except ValueError:
        threads = 1
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    except Exception as exc:  # threadpoolctl missing or an unknown BLAS: numpy's default stands
        logger.info("BLAS threads not limited (%s)", exc)


def tensorflow_forced() -> bool:
    return os.environ.get("FILMBOT_TF_INFERENCE", "").strip().lower() in ("1", "true", "yes")


class NumpyInferenceMixin:
    """For a DIETClassifier / ResponseSelector subclass: `_predict` through NumpyTextModel where it applies,
    Rasa's TensorFlow path everywhere else (same output format: {"i_scores": array (1, labels)})."""

    _numpy_model: Optional[NumpyTextModel] = None
    _numpy_checked = False

    def _numpy(self) -> Optional[NumpyTextModel]:
        if not self._numpy_checked:
            self._numpy_checked = True
            if getattr(self, "model", None) is not None:
                try:
                    self._numpy_model = NumpyTextModel(self.model)
                    limit_blas_threads()
                except (Unsupported, AttributeError, KeyError, TypeError, ValueError) as exc:
                    logger.info("%s: TensorFlow inference (%s)", type(self).__name__, exc)
                    self._numpy_model = None
        return self._numpy_model

    def _predict(self, message: Any) -> Optional[Dict[str, Any]]:
        fast = None if tensorflow_forced() else self._numpy()
        if fast is None or self._execution_context.should_add_diagnostic_data:
            return super()._predict(message)  # type: ignore[misc]
        featurizers = self.component_config.get(FEATURIZERS) or []
        dense = message.get_dense_features(TEXT, featurizers)
        if dense[0] is not None or dense[1] is not None:
            return super()._predict(message)  # type: ignore[misc]
        # the blocks Message.get_sparse_features would concatenate, in its order (Message._combine_features)
        sequence, sentence = message._filter_sparse_features(TEXT, featurizers)
        sequence = [f.features for f in sequence]
        sentence = [f.features for f in sentence]
        if not fast.fits(sequence, sentence):
            return super()._predict(message)  # type: ignore[misc]
        return {"i_scores": fast.scores(sequence, sentence)}
