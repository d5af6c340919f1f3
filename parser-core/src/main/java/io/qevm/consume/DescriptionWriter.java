package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Writes the stream's JSON VM description as {@code analyze-migration.py -d desc} prints it:
 * re-indented in Python's layout, key order kept, numbers as Python prints them after
 * {@code json.loads}. Streams token by token: no tree of the description is built.
 */
public final class DescriptionWriter {

    private static final JsonFactory PARSER_FACTORY = JsonFactory.builder().build();

    private DescriptionWriter() {
    }

    /**
     * Writes the description of {@code reader}'s stream to {@code out}, followed by a newline
     * when {@code finalNewline} (stdout gets one, {@code -x}'s desc.json does not).
     *
     * <p>On a stream, whose description comes last, the reader is first moved on (its events
     * skipped) until it knows the description: call this before other consumers, or after them.
     *
     * @param reader       the reader, anywhere in its stream
     * @param out          where the JSON goes; not closed
     * @param finalNewline whether a newline follows the JSON
     * @throws IOException           if {@code out} fails
     * @throws IllegalStateException if the stream has no description
     */
    public static void write(MigrationReader reader, OutputStream out, boolean finalNewline) throws IOException {
        while (!reader.isDescriptionKnown() && reader.next() != MigrationEvent.EOF) {
            // a stream: RAM comes before the description, and is skipped
        }
        byte[] json = reader.descriptionJson().toArray(ValueLayout.JAVA_BYTE);
        try (JsonParser parser = PARSER_FACTORY.createParser(ObjectReadContext.empty(), json);
             JsonGenerator generator = PythonJson.generator(out)) {
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                copy(token, parser, generator);
            }
        } catch (JacksonException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (finalNewline) {
            out.write('\n');
        }
    }

    private static void copy(JsonToken token, JsonParser parser, JsonGenerator generator) {
        switch (token) {
            case START_OBJECT -> generator.writeStartObject();
            case END_OBJECT -> generator.writeEndObject();
            case START_ARRAY -> generator.writeStartArray();
            case END_ARRAY -> generator.writeEndArray();
            case PROPERTY_NAME -> generator.writeName(parser.currentName());
            case VALUE_STRING -> generator.writeString(parser.getString());
            case VALUE_NUMBER_INT -> generator.writeNumber(parser.getBigIntegerValue());
            case VALUE_NUMBER_FLOAT -> generator.writeRawValue(PythonJson.floatRepr(parser.getDoubleValue()));
            case VALUE_TRUE -> generator.writeBoolean(true);
            case VALUE_FALSE -> generator.writeBoolean(false);
            case VALUE_NULL -> generator.writeNull();
            default -> throw new IllegalStateException("unexpected JSON token " + token);
        }
    }
}
