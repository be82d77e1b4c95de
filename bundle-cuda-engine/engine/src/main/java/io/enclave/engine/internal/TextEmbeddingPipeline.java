package io.enclave.engine.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.enclave.api.ArtifactSource;
import io.enclave.api.CryptoService;
import io.enclave.api.DataType;
import io.enclave.api.InferenceException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;
import io.enclave.api.TokenCounts;

/**
 * Sentence embeddings from a BERT-style encoder: HuggingFace tokenizer, the graph, then mean
 * pooling over the attention mask and (optionally) L2 normalisation.
 *
 * <p>A batch is padded only to its longest member, never to the tokenizer's fixed length: short
 * text then costs a fraction of the work.
 *
 * <p>The graph runs on the ONNX Runtime session directly, reading its inputs from and writing its
 * hidden states into direct buffers that calls take from a small pool and give back. A batch's hidden
 * states are large (8 rows of 128 tokens: 1.5 MiB), and copying them onto the heap twice per batch, as
 * the generic tensor path does, made every batch a humongous allocation for G1: under load the server
 * fell into back-to-back concurrent collections that also unloaded compiled code, and lost up to a
 * fifth of its throughput to the collector and the JIT compiler.
 */
final class TextEmbeddingPipeline implements Pipeline {
    static final String TYPE = "hf-tokenizer";

    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    private static final String TOKEN_TYPE_IDS = "token_type_ids";
    /** Idle buffer sets kept for reuse (about one per computation at once); more calls at once allocate their own. */
    private static final int MAX_IDLE_SCRATCH = Math.min(4, Runtime.getRuntime().availableProcessors());
    /**
     * A buffer set whose hidden states take more than this (32 rows of 256 tokens at 384 dimensions) is used
     * once and left to the collector: what stays idle is at most {@code MAX_IDLE_SCRATCH} times this, and a bit.
     */
    private static final long MAX_KEPT_HIDDEN_BYTES = 12L << 20;

    private final ModelDescriptor descriptor;
    private final HuggingFaceTokenizer tokenizer;
    private final String textInput;
    private final String hiddenOutput;
    private final String embeddingOutput;
    private final boolean normalize;
    private final boolean typeIds;
    private final int dimension;
    private final OrtSession session;
    private final ConcurrentLinkedDeque<Scratch> idle = new ConcurrentLinkedDeque<>();
    /** Token positions computed since load, padding included; added to before {@link #padding}. */
    private final AtomicLong computed = new AtomicLong();
    /** Of {@link #computed}, the positions that padded a shorter text; read before it. */
    private final AtomicLong padding = new AtomicLong();

    /** Direct buffers for one call: the graph's three inputs and its hidden-state output. */
    private static final class Scratch {
        final int tokens;
        final LongBuffer ids;
        final LongBuffer mask;
        final LongBuffer types;
        final FloatBuffer hidden;
        final float[] row;

        Scratch(int tokens, int dimension) {
            this.tokens = tokens;
            this.ids = longs(tokens);
            this.mask = longs(tokens);
            this.types = longs(tokens);
            this.hidden = ByteBuffer.allocateDirect(tokens * dimension * Float.BYTES).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            this.row = new float[dimension];
        }

        private static LongBuffer longs(int n) {
            return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        }
    }

    private TextEmbeddingPipeline(ModelDescriptor descriptor, OrtSession session, HuggingFaceTokenizer tokenizer,
            String hiddenOutput, boolean normalize, boolean typeIds) {
        this.descriptor = descriptor;
        this.session = session;
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
        return new TextEmbeddingPipeline(descriptor, session, tokenizer, hidden, normalize,
                graphInputs.contains(TOKEN_TYPE_IDS));
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
        int tokens = batch * seq;
        int real = 0;
        Scratch s = take(tokens);
        try {
            long[] mask = new long[tokens];
            s.ids.clear();
            s.types.clear();
            for (int i = 0; i < batch; i++) {
                Encoding e = encodings[i];
                int n = e.getIds().length;
                real += n;
                s.ids.position(i * seq).put(e.getIds());
                s.types.position(i * seq).put(e.getTypeIds());
                System.arraycopy(e.getAttentionMask(), 0, mask, i * seq, n);
                // padding: id 0, type 0, mask 0 (a reused buffer still holds the last call's tokens)
                for (int j = n; j < seq; j++) {
                    s.ids.put(0L);
                    s.types.put(0L);
                }
            }
            s.mask.clear();
            s.mask.put(mask);
            expose(s, tokens);
            long[] shape = {batch, seq};
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OnnxTensor ids = OnnxTensor.createTensor(env, s.ids, shape);
                    OnnxTensor attention = OnnxTensor.createTensor(env, s.mask, shape);
                    OnnxTensor types = typeIds ? OnnxTensor.createTensor(env, s.types, shape) : null;
                    OnnxTensor hidden = OnnxTensor.createTensor(env, s.hidden, new long[] {batch, seq, dimension})) {
                Map<String, OnnxTensor> feed = types == null ? Map.of(INPUT_IDS, ids, ATTENTION_MASK, attention)
                        : Map.of(INPUT_IDS, ids, ATTENTION_MASK, attention, TOKEN_TYPE_IDS, types);
                // ONNX Runtime writes the hidden states straight into the pinned buffer (and computes no other output)
                try (OrtSession.Result unused = session.run(feed, Map.of(hiddenOutput, hidden))) {
                    float[] pooled = meanPool(s.hidden, s.row, mask, batch, seq, dimension, normalize);
                    counted(tokens, tokens - real);
                    return List.of(new NamedTensor(embeddingOutput, DataType.FP32, new long[] {batch, dimension}, pooled));
                }
            } catch (OrtException e) {
                throw new InferenceException(descriptor + " failed in ONNX Runtime (graph output " + hiddenOutput
                        + ", expected shape (" + batch + ", " + seq + ", " + dimension + ")): " + e.getMessage(), e);
            }
        } finally {
            give(s);
        }
    }

    private void counted(long tokens, long padded) {
        // in this order, and read in the other: a reader that sees a batch's padding also sees its tokens
        computed.addAndGet(tokens);
        padding.addAndGet(padded);
    }

    @Override
    public TokenCounts tokenCounts() {
        long padded = padding.get();
        return new TokenCounts(computed.get(), padded);
    }

    /** Sets every buffer of {@code s} to hold exactly {@code tokens} values from its start, as a tensor reads it. */
    private void expose(Scratch s, int tokens) {
        s.ids.clear().limit(tokens);
        s.mask.clear().limit(tokens);
        s.types.clear().limit(tokens);
        s.hidden.clear().limit(tokens * dimension);
    }

    private Scratch take(int tokens) {
        for (Scratch s; (s = idle.pollFirst()) != null;) {
            if (s.tokens >= tokens) {
                return s;
            }
            // too small for this call: dropped, and one large enough replaces it below
        }
        // rounded up, so a batch a little longer than the last does not allocate again
        return new Scratch(Math.max(64, Integer.highestOneBit(Math.max(1, tokens - 1)) << 1), dimension);
    }

    private void give(Scratch s) {
        if ((long) s.tokens * dimension * Float.BYTES <= MAX_KEPT_HIDDEN_BYTES && idle.size() < MAX_IDLE_SCRATCH) {
            idle.offerFirst(s);
        }
    }

    /**
     * Mean of the token vectors the mask selects, per row; then unit length when asked.
     *
     * @param hidden {@code batch * seq * dim} values from index 0
     * @param row    scratch of {@code dim} floats
     */
    static float[] meanPool(FloatBuffer hidden, float[] row, long[] mask, int batch, int seq, int dim, boolean normalize) {
        float[] out = new float[batch * dim];
        for (int b = 0; b < batch; b++) {
            int tokens = 0;
            for (int s = 0; s < seq; s++) {
                if (mask[b * seq + s] == 0) {
                    continue;
                }
                tokens++;
                hidden.get((b * seq + s) * dim, row, 0, dim);
                for (int d = 0; d < dim; d++) {
                    out[b * dim + d] += row[d];
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

    @Override
    public String toString() {
        return TYPE + " → " + descriptor;
    }
}
