package io.qevm.internal;

/** Text from the file made safe for one-line messages. Not part of the API. */
public final class Text {

    private Text() {
    }

    /**
     * {@code text} with every character that could break a line or a terminal (C0 and C1
     * controls, DEL, the Unicode line and paragraph separators) shown as an escape: a name read
     * from a hostile file must not split a one-line error.
     */
    public static String printable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean unsafe = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
            if (unsafe && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (out != null) {
                if (unsafe) {
                    out.append(c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }
}
