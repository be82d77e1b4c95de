package io.enclave.engine.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.enclave.api.ArtifactSource;
import io.enclave.api.CryptoService;
import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;

/**
 * Sentence embeddings from a BERT-style encoder: HuggingFace tokenizer, the graph, then mean
 * pooling over the attention mask and (optionally) L2 normalisation.
 *
 * <p>A batch is padded only to its longest member, never to the tokenizer's fixed length: short
 * text then costs a fraction of the work.
 */
final class TextEmbeddingPipeline implements Pipeline {
    static final String TYPE = "hf-tokenizer";

    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    private static final String TOKEN_TYPE_IDS = "token_type_ids";

    private final ModelDescriptor descriptor;
    private final HuggingFaceTokenizer tokenizer;
    private final String textInput;
    private final String hiddenOutput;
    private final String embeddingOutput;
    private final boolean normalize;
    private final boolean typeIds;
    private final int dimension;

    private TextEmbeddingPipeline(ModelDescriptor descriptor, HuggingFaceTokenizer tokenizer, String hiddenOutput,
            boolean normalize, boolean typeIds) {
        this.descriptor = descriptor;
        this.tokenizer = tokenizer;
        this.textInput = descriptor.inputs().get(0).name();
        TensorSpec out = descriptor.outputs().get(0);
        this.embeddingOutput = out.name();
        this.dimension = (int) out.shape()[1];
        this.hiddenOutput = hiddenOutput;
        this.normalize = normalize;
        this.typeIds = typeIds;
    }

    static Pipeline create(ModelDescriptor descriptor, OrtSession session, ArtifactSource source,
            Supplier<CryptoService> crypto) throws ModelLoadException, OrtException {
        if (descriptor.inputs().size() != 1 || descriptor.inputs().get(0).datatype() != DataType.BYTES) {
            throw new ModelLoadException(descriptor + ": " + TYPE + " needs exactly one BYTES input");
        }
        TensorSpec out = descriptor.outputs().size() == 1 ? descriptor.outputs().get(0) : null;
        if (out == null || out.datatype() != DataType.FP32 || out.shape().length != 2 || out.shape()[1] <= 0) {
            throw new ModelLoadException(descriptor + ": " + TYPE + " needs exactly one FP32 output of shape [-1, dim]");
        }
        Map<String, Object> post = descriptor.postprocessing();
        String pooling = OnnxRuntimeEngine.text(post, "type", "mean-pooling");
        if (!"mean-pooling".equals(pooling)) {
            throw new ModelLoadException(descriptor + ": postprocessing type '" + pooling
                    + "' is not supported after " + TYPE + " (known: mean-pooling)");
        }
        Set<String> graphInputs = session.getInputNames();
        if (!graphInputs.contains(INPUT_IDS) || !graphInputs.contains(ATTENTION_MASK)) {
            throw new ModelLoadException(descriptor + ": the graph has inputs " + graphInputs + ", expected "
                    + INPUT_IDS + " and " + ATTENTION_MASK);
        }
        String hidden = OnnxRuntimeEngine.text(post, "graphOutput", "last_hidden_state");
        if (!session.getOutputNames().contains(hidden)) {
            throw new ModelLoadException(descriptor + ": the graph has no output '" + hidden + "' (it has "
                    + session.getOutputNames() + ")");
        }
        Map<String, Object> pre = descriptor.preprocessing();
        String tokenizerEntry = OnnxRuntimeEngine.text(pre, "tokenizer", "tokenizer.json");
        int maxLength = Integer.parseInt(OnnxRuntimeEngine.text(pre, "maxLength", "256"));
        byte[] json = OnnxRuntimeEngine.read(descriptor, source, tokenizerEntry, crypto);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), Map.of(
                    "padding", "false",
                    "truncation", "true",
                    "maxLength", Integer.toString(maxLength),
                    "addSpecialTokens", "true"));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(descriptor + ": cannot read tokenizer " + tokenizerEntry + ": " + e.getMessage(), e);
        }
        boolean normalize = Boolean.parseBoolean(OnnxRuntimeEngine.text(post, "normalize", "true"));
        return new TextEmbeddingPipeline(descriptor, tokenizer, hidden, normalize, graphInputs.contains(TOKEN_TYPE_IDS));
    }

    @Override
    public List<NamedTensor> run(List<NamedTensor> inputs, NDManager manager, Graph graph) {
        String[] texts = decode(inputs.get(0));
        int batch = texts.length;
        if (batch == 0) {
            return List.of(new NamedTensor(embeddingOutput, DataType.FP32, new long[] {0, dimension}, new float[0]));
        }
        Encoding[] encodings = tokenizer.batchEncode(texts);
        int seq = 1;
        for (Encoding e : encodings) {
            seq = Math.max(seq, e.getIds().length);
        }
        long[] ids = new long[batch * seq];
        long[] mask = new long[batch * seq];
        long[] types = new long[batch * seq];
        for (int i = 0; i < batch; i++) {
            Encoding e = encodings[i];
            System.arraycopy(e.getIds(), 0, ids, i * seq, e.getIds().length);
            System.arraycopy(e.getAttentionMask(), 0, mask, i * seq, e.getAttentionMask().length);
            System.arraycopy(e.getTypeIds(), 0, types, i * seq, e.getTypeIds().length);
        }
        Shape shape = new Shape(batch, seq);
        NDList graphInputs = new NDList(named(manager.create(ids, shape), INPUT_IDS),
                named(manager.create(mask, shape), ATTENTION_MASK));
        if (typeIds) {
            graphInputs.add(named(manager.create(types, shape), TOKEN_TYPE_IDS));
        }
        NDList out = graph.forward(manager, graphInputs);
        NDArray hidden = out.get(hiddenOutput);
        if (hidden == null) {
            hidden = out.head();
        }
        Shape h = hidden.getShape();
        if (h.dimension() != 3 || h.get(0) != batch || h.get(1) != seq || h.get(2) != dimension) {
            throw new IllegalStateException("graph output " + hiddenOutput + " has shape " + h + ", expected ("
                    + batch + ", " + seq + ", " + dimension + ")");
        }
        float[] pooled = meanPool(hidden.toFloatArray(), mask, batch, seq, dimension, normalize);
        return List.of(new NamedTensor(embeddingOutput, DataType.FP32, new long[] {batch, dimension}, pooled));
    }

    /** Mean of the token vectors the mask selects, per row; then unit length when asked. */
    static float[] meanPool(float[] hidden, long[] mask, int batch, int seq, int dim, boolean normalize) {
        float[] out = new float[batch * dim];
        for (int b = 0; b < batch; b++) {
            int tokens = 0;
            for (int s = 0; s < seq; s++) {
                if (mask[b * seq + s] == 0) {
                    continue;
                }
                tokens++;
                int base = (b * seq + s) * dim;
                for (int d = 0; d < dim; d++) {
                    out[b * dim + d] += hidden[base + d];
                }
            }
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                out[b * dim + d] /= Math.max(tokens, 1);
                norm += (double) out[b * dim + d] * out[b * dim + d];
            }
            if (normalize && norm > 0) {
                float scale = (float) (1.0 / Math.sqrt(norm));
                for (int d = 0; d < dim; d++) {
                    out[b * dim + d] *= scale;
                }
            }
        }
        return out;
    }

    private String[] decode(NamedTensor tensor) {
        byte[][] raw = tensor.bytes();
        String[] texts = new String[raw.length];
        for (int i = 0; i < raw.length; i++) {
            try {
                texts[i] = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(raw[i])).toString();
            } catch (CharacterCodingException e) {
                throw new InvalidInputException("input '" + textInput + "' element " + i + " is not valid UTF-8 text");
            }
        }
        return texts;
    }

    private static NDArray named(NDArray array, String name) {
        array.setName(name);
        return array;
    }

    @Override
    public String toString() {
        return TYPE + " → " + descriptor;
    }
}
