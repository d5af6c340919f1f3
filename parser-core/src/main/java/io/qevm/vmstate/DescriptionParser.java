package io.qevm.vmstate;

import io.qevm.FieldKind;
import io.qevm.ReadLimits;
import io.qevm.internal.Messages;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.ReadContext;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;

/**
 * Reads the JSON description with jackson-core's streaming parser into a {@link Description},
 * keeping only what decoding needs. Errors name the file offset of the JSON token at fault.
 */
public final class DescriptionParser {

    private static final Description.Struct[] NO_SUBSECTIONS = new Description.Struct[0];
    /** Built once: a factory is a few KiB, and every reader opened would make one. */
    private static final JsonFactory DEFAULT_FACTORY = factory(ReadLimits.DEFAULT);

    private final JsonParser parser;
    private final long jsonOffset;
    private final ReadLimits limits;
    private int fieldCount;

    private DescriptionParser(JsonParser parser, long jsonOffset, ReadLimits limits) {
        this.parser = parser;
        this.jsonOffset = jsonOffset;
        this.limits = limits;
    }

    /**
     * Parses {@code json}, which starts at file offset {@code jsonOffset}.
     *
     * @throws MalformedStreamException if it is not JSON or not a VM description
     * @throws LimitExceededException   if it nests or counts beyond {@code limits}
     */
    public static Description parse(byte[] json, long jsonOffset, ReadLimits limits) {
        JsonFactory factory = limits.maxNestingDepth() == ReadLimits.DEFAULT.maxNestingDepth()
                ? DEFAULT_FACTORY : factory(limits);
        try (JsonParser parser = factory.createParser(ObjectReadContext.empty(), json)) {
            DescriptionParser reader = new DescriptionParser(parser, jsonOffset, limits);
            Description description = reader.readTop();
            if (parser.nextToken() != null) {
                throw reader.malformed(Messages.descriptionTrailingData());
            }
            return description;
        } catch (JacksonException e) {
            long at = e.getLocation() == null ? jsonOffset : jsonOffset + Math.max(0, e.getLocation().getByteOffset());
            String detail = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
            throw new MalformedStreamException(Messages.descriptionNotJson(firstLine(detail)), ReadContext.at(at));
        }
    }

    private static JsonFactory factory(ReadLimits limits) {
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        // struct -> fields -> field -> struct is three JSON levels per struct level
                        .maxNestingDepth(limits.maxNestingDepth() * 3 + 8)
                        .build())
                .build();
    }

    private Description readTop() {
        expect(parser.nextToken(), JsonToken.START_OBJECT, "the description object");
        long pageSize = -1;
        Description.Struct configuration = null;
        List<Description.Device> devices = null;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String key = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (key) {
                case "page_size" -> pageSize = longValue(value, "page_size");
                case "configuration" -> configuration = readStruct(value, "configuration", 1);
                case "devices" -> devices = readDevices(value);
                default -> parser.skipChildren();
            }
        }
        if (devices == null) {
            throw malformed(Messages.descriptionMissing("devices"));
        }
        return new Description(pageSize, configuration, devices);
    }

    private List<Description.Device> readDevices(JsonToken token) {
        expect(token, JsonToken.START_ARRAY, "'devices' as a list");
        List<Description.Device> devices = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            devices.add(readDevice());
        }
        return devices;
    }

    private Description.Device readDevice() {
        Body body = readBody(parser.currentToken(), "a device object", 1, true);
        if (body.name == null) {
            throw malformed(Messages.descriptionMissing("device 'name'"));
        }
        if (body.instanceId < 0) {
            throw malformed(Messages.descriptionMissing("'instance_id' of device '" + body.name + "'"));
        }
        return new Description.Device(body.name, body.instanceId, body.struct(body.name));
    }

    /** A struct body, subsection or the configuration: vmsd_name, fields, subsections. */
    private Description.Struct readStruct(JsonToken token, String what, int depth) {
        return readBody(token, what + " as an object", depth, false).struct(what);
    }

    /** What a device or struct object holds; a device also its name and instance id. */
    private static final class Body {
        String name;
        long instanceId = -1;
        String vmsdName;
        Description.Field[] fields = new Description.Field[0];
        Description.Struct[] subsections = NO_SUBSECTIONS;

        /** The body as a struct, named {@code fallback} when the JSON gives no vmsd_name. */
        Description.Struct struct(String fallback) {
            return new Description.Struct(vmsdName == null ? fallback : vmsdName, fields, subsections);
        }
    }

    /** A device's object ({@code device}, at depth 1) or a struct's at {@code depth}, whose nesting is checked. */
    private Body readBody(JsonToken token, String expected, int depth, boolean device) {
        expect(token, JsonToken.START_OBJECT, expected);
        if (!device) {
            checkDepth(depth);
        }
        Body body = new Body();
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String key = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (key) {
                case "name" -> {
                    if (device) {
                        body.name = text(value, "device name");
                    } else {
                        parser.skipChildren();
                    }
                }
                case "instance_id" -> {
                    if (device) {
                        body.instanceId = longValue(value, "instance_id");
                    } else {
                        parser.skipChildren();
                    }
                }
                case "vmsd_name" -> body.vmsdName = text(value, "vmsd_name");
                case "fields" -> body.fields = readFields(value, depth);
                case "subsections" -> body.subsections = readSubsections(value, depth);
                default -> parser.skipChildren();
            }
        }
        return body;
    }

    private Description.Struct[] readSubsections(JsonToken token, int depth) {
        expect(token, JsonToken.START_ARRAY, "'subsections' as a list");
        List<Description.Struct> subsections = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            subsections.add(readStruct(parser.currentToken(), "subsection", depth + 1));
        }
        return subsections.toArray(NO_SUBSECTIONS);
    }

    private Description.Field[] readFields(JsonToken token, int depth) {
        expect(token, JsonToken.START_ARRAY, "'fields' as a list");
        List<Description.Field> fields = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            limits.validateDescriptionFields(++fieldCount, this::here);
            Description.Field field = readField(depth);
            Description.Field previous = fields.isEmpty() ? null : fields.getLast();
            if (!field.hasIndex() && previous != null && previous.hasIndex() && previous.name().equals(field.name())) {
                // QEMU 9.1+ splits an array around null pointers into entries of one name, and
                // 10.2 gives every one but the last an index: the last is the next element
                field = new Description.Field(field.name(), field.type(), field.kind(), field.size(), field.count(),
                        true, previous.index() + previous.count(), field.struct());
            }
            fields.add(field);
        }
        return fields.toArray(new Description.Field[0]);
    }

    private Description.Field readField(int depth) {
        expect(parser.currentToken(), JsonToken.START_OBJECT, "a field object");
        long fieldOffset = here().eventOffset();
        String name = null;
        String type = null;
        long size = -1;
        long arrayLen = -1;
        boolean hasIndex = false;
        long index = 0;
        Description.Struct struct = null;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String key = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (key) {
                case "name" -> name = text(value, "field name");
                case "type" -> type = text(value, "field type");
                case "size" -> size = longValue(value, "size");
                case "array_len" -> arrayLen = longValue(value, "array_len");
                case "index" -> {
                    hasIndex = true;
                    index = value.isNumeric() ? parser.getLongValue() : 0;
                    parser.skipChildren();
                }
                case "struct" -> struct = readStruct(value, "struct", depth + 1);
                default -> parser.skipChildren();
            }
        }
        if (name == null || type == null) {
            throw new MalformedStreamException(Messages.descriptionMissing(name == null ? "field 'name'"
                    : "'type' of field '" + name + "'"), ReadContext.at(fieldOffset));
        }
        FieldKind kind = kindOf(type);
        if (kind == FieldKind.STRUCT && struct == null) {
            throw new MalformedStreamException(Messages.descriptionMissing("'struct' of struct field '" + name + "'"),
                    ReadContext.at(fieldOffset));
        }
        limits.validateArrayLength(name, arrayLen, () -> ReadContext.at(fieldOffset));
        // The reference expands array_len into entries with index 0..n-1 (and keeps one entry even
        // for array_len 0 or less): count is at least 1 and every element is an array entry.
        boolean isArray = arrayLen >= 0;
        return new Description.Field(name, type, kind, size, isArray ? (int) Math.max(arrayLen, 1) : 1,
                isArray || hasIndex, isArray ? 0 : index, struct);
    }

    /** How a field's bytes are read, from its JSON type: the reader table of analyze-migration.py. */
    static FieldKind kindOf(String type) {
        return switch (type) {
            case "bool" -> FieldKind.BOOL;
            case "int8", "int16", "int32", "int64", "int32 equal", "int32 le", "int64 equal",
                 "uint8 equal", "uint16 equal" -> FieldKind.SIGNED;
            case "uint8", "uint16", "uint32", "uint64", "uint32 equal" -> FieldKind.UNSIGNED;
            case "nullptr" -> FieldKind.NULLPTR;
            case "capability" -> FieldKind.CAPABILITY;
            case "struct" -> FieldKind.STRUCT;
            default -> FieldKind.BYTES;
        };
    }

    private void checkDepth(int depth) {
        limits.validateDescriptionNesting(depth, this::here);
    }

    private String text(JsonToken token, String what) {
        if (token != JsonToken.VALUE_STRING) {
            throw malformed(Messages.descriptionWrongType(what, "a string", token));
        }
        return parser.getString();
    }

    private long longValue(JsonToken token, String what) {
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw malformed(Messages.descriptionWrongType(what, "an integer", token));
        }
        return switch (parser.getNumberType()) {
            case INT, LONG -> parser.getLongValue();
            default -> throw malformed(Messages.descriptionWrongType(what, "an integer of 64 bits", token));
        };
    }

    private void expect(JsonToken token, JsonToken wanted, String what) {
        if (token != wanted) {
            throw malformed(Messages.descriptionWrongType(what, wanted.asString() == null ? wanted.name()
                    : "'" + wanted.asString() + "'", token));
        }
    }

    private ReadContext here() {
        return ReadContext.at(jsonOffset + Math.max(0, parser.currentTokenLocation().getByteOffset()));
    }

    private MalformedStreamException malformed(String problem) {
        return new MalformedStreamException(problem, here());
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
