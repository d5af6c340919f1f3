package io.qevm.consume;

import java.io.OutputStream;
import java.math.BigDecimal;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.PrettyPrinter;
import tools.jackson.core.SerializableString;
import tools.jackson.core.io.CharacterEscapes;
import tools.jackson.core.io.SerializedString;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonWriteFeature;

/**
 * jackson-core generators that write JSON exactly as Python's
 * {@code json.JSONEncoder(indent=4, separators=(',', ': '))} does with its default
 * {@code ensure_ascii=True}: what the reference analyze-migration.py prints.
 *
 * <ul>
 *   <li>four spaces per level, {@code ",\n"} between items, {@code ": "} after keys;</li>
 *   <li>empty objects and arrays as {@code {}} and {@code []};</li>
 *   <li>everything outside printable ASCII escaped as lowercase {@code \u00e9} (characters
 *       beyond the BMP as two surrogate escapes), DEL included; {@code \b \f \n \r \t} short;</li>
 *   <li>{@code /} not escaped.</li>
 * </ul>
 */
public final class PythonJson {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .characterEscapes(new PythonEscapes())
            .build();

    private PythonJson() {
    }

    /**
     * A UTF-8 generator over {@code out} in Python's layout. Closing it flushes but does not
     * close {@code out}.
     *
     * @param out where the JSON goes
     * @return the generator
     */
    public static JsonGenerator generator(OutputStream out) {
        ObjectWriteContext context = new ObjectWriteContext.Base() {
            @Override
            public PrettyPrinter getPrettyPrinter() {
                return new IndentFour();
            }

            @Override
            public boolean hasPrettyPrinter() {
                return true;
            }

            @Override
            public int getStreamWriteFeatures(int defaults) {
                return defaults & ~tools.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET.getMask();
            }
        };
        return FACTORY.createGenerator(context, out);
    }

    /**
     * {@return Python's {@code repr(float)}: the shortest digits that round-trip, in positional notation
     * when the decimal exponent is from -4 to 15, else as {@code 1e+16}, {@code 1.5e-05}}
     *
     * @param value the number
     */
    public static String floatRepr(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        if (value == 0) {
            return (1 / value < 0) ? "-0.0" : "0.0";
        }
        // Double.toString gives the shortest round-tripping digits since JDK 19
        BigDecimal exact = new BigDecimal(Double.toString(value)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = value < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "")
                + Math.abs(exponent);
    }

    /** Python's indent=4 layout; one instance per generator, as it counts the nesting. */
    private static final class IndentFour implements PrettyPrinter {
        private int level;

        private static void newline(JsonGenerator g, int level) {
            g.writeRaw('\n');
            for (int i = 0; i < level; i++) {
                g.writeRaw("    ");
            }
        }

        @Override
        public void writeRootValueSeparator(JsonGenerator g) {
            // one root value per generator
        }

        @Override
        public void writeStartObject(JsonGenerator g) {
            g.writeRaw('{');
            level++;
        }

        @Override
        public void beforeObjectEntries(JsonGenerator g) {
            newline(g, level);
        }

        @Override
        public void writeObjectNameValueSeparator(JsonGenerator g) {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) {
            g.writeRaw(',');
            newline(g, level);
        }

        @Override
        public void writeEndObject(JsonGenerator g, int entries) {
            level--;
            if (entries > 0) {
                newline(g, level);
            }
            g.writeRaw('}');
        }

        @Override
        public void writeStartArray(JsonGenerator g) {
            g.writeRaw('[');
            level++;
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) {
            newline(g, level);
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) {
            g.writeRaw(',');
            newline(g, level);
        }

        @Override
        public void writeEndArray(JsonGenerator g, int values) {
            level--;
            if (values > 0) {
                newline(g, level);
            }
            g.writeRaw(']');
        }
    }

    /** Python's ensure_ascii escaping: lowercase hex, DEL escaped, short forms for five controls. */
    private static final class PythonEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private static final int[] ASCII = new int[128];

        static {
            int[] standard = CharacterEscapes.standardAsciiEscapesForJSON();
            System.arraycopy(standard, 0, ASCII, 0, 128);
            for (int c = 0; c < 0x20; c++) {
                ASCII[c] = CharacterEscapes.ESCAPE_CUSTOM;
            }
            ASCII[0x7f] = CharacterEscapes.ESCAPE_CUSTOM;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ASCII;
        }

        @Override
        public SerializableString getEscapeSequence(int c) {
            return new SerializedString(switch (c) {
                case '\b' -> "\\b";
                case '\f' -> "\\f";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> String.format("\\u%04x", c);
            });
        }
    }
}
