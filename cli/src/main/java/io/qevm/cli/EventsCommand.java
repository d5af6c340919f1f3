package io.qevm.cli;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageEncoding;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.SerializableString;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.io.SerializedString;
import tools.jackson.core.json.JsonFactory;

/**
 * {@code qevm events FILE}: the reader's events as JSON lines, for {@code grep} and {@code jq}.
 * On a broken stream, the events up to the error, then the error: what a stream looked like
 * just before it broke is the point. Names are pre-encoded and nothing is built per event but
 * the field paths the reader makes.
 */
final class EventsCommand implements Subcommands.Subcommand {

    /** Bytes of a field value shown in hex (buffers can be kilobytes: a vga's memory). */
    static final int MAX_VALUE_BYTES = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder().rootValueSeparator("\n")
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private static final SerializableString OFFSET = new SerializedString("offset");
    private static final SerializableString EVENT = new SerializedString("event");
    private static final SerializableString SECTION = new SerializedString("section");
    private static final SerializableString ID = new SerializedString("id");
    private static final SerializableString BLOCK = new SerializedString("block");
    private static final SerializableString PAGE = new SerializedString("page");
    private static final SerializableString ENCODING = new SerializedString("encoding");
    private static final SerializableString FILL = new SerializedString("fill");
    private static final SerializableString PATH = new SerializedString("path");
    private static final SerializableString TYPE = new SerializedString("type");
    private static final SerializableString VALUE = new SerializedString("value");
    private static final SerializableString SIZE = new SerializedString("size");
    private static final SerializableString[] EVENT_NAMES = names(MigrationEvent.values());
    private static final SerializableString[] ENCODINGS = names(PageEncoding.values());

    private static SerializableString[] names(Enum<?>[] values) {
        SerializableString[] names = new SerializableString[values.length];
        for (Enum<?> value : values) {
            names[value.ordinal()] = new SerializedString(value.name().toLowerCase(java.util.Locale.ROOT));
        }
        return names;
    }

    @Override
    public String help() {
        return """
                usage: qevm events FILE [--snapshot ID|NAME] [--debug]

                Prints the events the reader sees in FILE, one JSON object per line, for
                grep and jq. On a broken stream it prints the events up to the error, then
                the error on stderr, and exits 1.

                options:
                  --snapshot ID|NAME    of a qcow2 image: the internal snapshot to read
                  --debug               print stack traces on failure
                  -h, --help            show this help message and exit

                JSON lines (stable: attributes may be added, none removed or changed); every
                line has "offset" (the event's byte offset in the stream) and "event":
                  section_start, section_end, footer:
                      "section" (idstr), "id", "instance", "version", "record" (start, part,
                      end, full)
                  configuration: "machine", "capabilities" [...], "targetPageBits" (-1: none)
                  command:       "command" (MIG_CMD_* number), "size" (payload bytes)
                  ram_block:     "block", "length", "pageSize" (-1: not given), "mrAddr" (-1)
                  ram_page:      "block", "page" (offset in the block), "size",
                                 "encoding" (raw, mapped, compressed, xbzrle)
                  zero_page:     "block", "page", "size", "fill" (the fill byte)
                  field:         "path" (device/field[index]/...), "type", "size", "value":
                                 a number (integers), true/false (bool), a string (capability),
                                 or the bytes in hex (others; the first 64 bytes, "size" says all)
                  struct_start:  "path", "type"
                  subsection:    "path", "name", "version"
                  struct_end, subsection_end, eof: nothing more
                  Offsets count in the stream (the decompressed stream of a compressed file).

                exit status: 0 done, 1 bad input (after the events before the error), 2 bad usage.
                """;
    }

    @Override
    public List<CommandLine.Option> options() {
        return DumpInput.COMMON;
    }

    @Override
    public int run(CommandLine line, Path workDir, PrintStream out, PrintStream err) throws IOException,
            Options.UsageException {
        String file = line.positionals("FILE").getFirst();
        try (MigrationReader reader = DumpInput.openForRam(line, file, workDir)) {
            OutputStream buffered = new BufferedOutputStream(out, 1 << 16);
            JsonGenerator json = FACTORY.createGenerator(ObjectWriteContext.empty(), buffered);
            try {
                MigrationEvent event;
                do {
                    event = reader.next();
                    write(json, event, reader);
                } while (event != MigrationEvent.EOF);
            } finally {
                // the events before an error are the point: out before the error line
                try {
                    json.writeRaw('\n');
                    json.close();
                    buffered.flush();
                } catch (JacksonException | IOException e) {
                    // stdout failed: Subcommands reports it
                }
            }
            if (reader.deviceStateSkippedAt() >= 0) {
                // the events of the device state are missing: not a success
                DumpInput.noteSkippedDeviceState(reader, file, err);
                return Main.BAD_INPUT;
            }
        }
        return Main.OK;
    }

    private static void write(JsonGenerator json, MigrationEvent event, MigrationReader reader) {
        json.writeStartObject();
        json.writeName(OFFSET);
        json.writeNumber(reader.eventOffset());
        json.writeName(EVENT);
        json.writeString(EVENT_NAMES[event.ordinal()]);
        switch (event) {
            case SECTION_START, SECTION_END, FOOTER -> {
                json.writeName(SECTION);
                json.writeString(reader.sectionName());
                json.writeName(ID);
                json.writeNumber(reader.sectionId());
                json.writeNumberProperty("instance", reader.instanceId());
                json.writeNumberProperty("version", reader.sectionVersion());
                json.writeStringProperty("record", reader.recordType().name().toLowerCase(java.util.Locale.ROOT));
            }
            case CONFIGURATION -> {
                json.writeStringProperty("machine", reader.machineName());
                json.writeName("capabilities");
                json.writeStartArray();
                for (String capability : reader.capabilities()) {
                    json.writeString(capability);
                }
                json.writeEndArray();
                json.writeNumberProperty("targetPageBits", reader.targetPageBits());
            }
            case COMMAND -> {
                json.writeNumberProperty("command", reader.commandType());
                json.writeName(SIZE);
                json.writeNumber(reader.commandPayload().byteSize());
            }
            case RAM_BLOCK -> {
                json.writeName(BLOCK);
                json.writeString(reader.blockName());
                json.writeNumberProperty("length", reader.blockLength());
                json.writeNumberProperty("pageSize", reader.blockPageSize());
                json.writeNumberProperty("mrAddr", reader.blockMrAddr());
            }
            case RAM_PAGE -> {
                page(json, reader);
                json.writeName(ENCODING);
                json.writeString(ENCODINGS[reader.pageEncoding().ordinal()]);
            }
            case ZERO_PAGE -> {
                page(json, reader);
                json.writeName(FILL);
                json.writeNumber(reader.fillByte());
            }
            case FIELD -> {
                json.writeName(PATH);
                json.writeString(reader.fieldPath());
                json.writeName(TYPE);
                json.writeString(reader.fieldType());
                json.writeName(SIZE);
                json.writeNumber(reader.fieldSize());
                json.writeName(VALUE);
                writeValue(json, reader);
            }
            case STRUCT_START -> {
                json.writeName(PATH);
                json.writeString(reader.fieldPath());
                json.writeName(TYPE);
                json.writeString(reader.fieldType());
            }
            case SUBSECTION -> {
                json.writeName(PATH);
                json.writeString(reader.fieldPath());
                json.writeStringProperty("name", reader.subsectionName());
                json.writeNumberProperty("version", reader.subsectionVersion());
            }
            default -> {
            }
        }
        json.writeEndObject();
    }

    /** What a RAM_PAGE and a ZERO_PAGE both have: block, offset, size. */
    private static void page(JsonGenerator json, MigrationReader reader) {
        json.writeName(BLOCK);
        json.writeString(reader.blockName());
        json.writeName(PAGE);
        json.writeNumber(reader.pageOffset());
        json.writeName(SIZE);
        json.writeNumber(reader.pageSize());
    }

    private static void writeValue(JsonGenerator json, MigrationReader reader) {
        FieldKind kind = reader.fieldKind();
        long size = reader.fieldSize();
        switch (kind) {
            case SIGNED, UNSIGNED -> {
                if (size <= 8) {
                    long value = reader.fieldLongValue();
                    if (kind == FieldKind.UNSIGNED && value < 0) {
                        json.writeNumber(reader.fieldBigIntegerValue());
                    } else {
                        json.writeNumber(value);
                    }
                } else {
                    json.writeNumber(reader.fieldBigIntegerValue());
                }
            }
            case BOOL -> json.writeBoolean(reader.fieldBooleanValue());
            case CAPABILITY -> json.writeString(reader.fieldStringValue());
            default -> json.writeString(hex(reader.fieldBytes()));
        }
    }

    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private static String hex(MemorySegment bytes) {
        int length = (int) Math.min(bytes.byteSize(), MAX_VALUE_BYTES);
        char[] text = new char[length * 2];
        for (int i = 0; i < length; i++) {
            int b = bytes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            text[2 * i] = DIGITS[b >>> 4];
            text[2 * i + 1] = DIGITS[b & 15];
        }
        return new String(text);
    }
}
