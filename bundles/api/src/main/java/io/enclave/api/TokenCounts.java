package io.enclave.api;

/**
 * What a text model's batches computed, in tokens. Texts that run in one batch are padded to the
 * batch's longest, and the padding costs as much compute as real tokens; these counts show how much of
 * a version's work was padding, so that an operator can see what
 * {@link BatchingSettings#maxPaddingRatio()} saves or would save.
 *
 * @param tokens  token positions the engine computed, padding included
 * @param padding of those, the positions that only padded a shorter text
 */
public record TokenCounts(long tokens, long padding) {

    /** Nothing computed yet. */
    public static final TokenCounts NONE = new TokenCounts(0, 0);

    /**
     * @throws IllegalArgumentException when a count is negative or padding exceeds the tokens
     */
    public TokenCounts {
        if (tokens < 0 || padding < 0 || padding > tokens) {
            throw new IllegalArgumentException("token counts must satisfy 0 <= padding <= tokens, not padding " + padding
                    + " of " + tokens);
        }
    }

    /** @return the share of the computed positions that were padding, NaN when nothing was computed */
    public double paddingShare() {
        return tokens == 0 ? Double.NaN : (double) padding / tokens;
    }
}
