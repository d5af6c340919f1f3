package io.qevm.vmstate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.ReadScope;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link VmStateDecoder}: a device's state walked by its JSON description (QEMU's
 * migration/vmstate.c read the other way round): fields, {@code array_len} and {@code index}
 * elements, arrays split around null pointers, structs, subsections, and the scopes it keeps.
 */
final class VmStateDecoderTest {

    private static final String DEV = "dev";

    private ReadLocation at;
    private ByteCursor in;

    /** A decoder over {@code bytes} with the device {@code fields} (and {@code subsections}) open. */
    private VmStateDecoder decoder(byte[] bytes, ReadLimits limits, String[] fields, String... subsections) {
        Description description = DescriptionParser.parse(
                Json.description(4096, Json.deviceWithSubsections(DEV, 0, 1, fields, subsections))
                        .getBytes(StandardCharsets.UTF_8), 0, ReadLimits.DEFAULT);
        at = new ReadLocation();
        in = new ByteCursor(ByteSource.of(bytes, "<heap>"), at, 0);
        at.attach(in);
        VmStateDecoder decoder = new VmStateDecoder(in, at, limits);
        decoder.openSection(DEV, description.device(DEV, 0).body());
        return decoder;
    }

    private VmStateDecoder decoder(byte[] bytes, String... fields) {
        return decoder(bytes, ReadLimits.DEFAULT, fields);
    }

    /** Every event to SECTION_END, each as "EVENT path" (fields with their value bytes in hex). */
    private static List<String> walk(VmStateDecoder decoder) {
        List<String> events = new ArrayList<>();
        for (MigrationEvent e = decoder.next(); e != MigrationEvent.SECTION_END; e = decoder.next()) {
            String path = decoder.scope().path();
            events.add(switch (e) {
                case FIELD -> "FIELD " + path + "/" + decoder.field().name()
                        + (decoder.fieldIndex() >= 0 ? "[" + decoder.fieldIndex() + "]" : "") + "=" + hex(decoder);
                case SUBSECTION -> "SUBSECTION " + path + " v" + decoder.subsectionVersion();
                default -> e + " " + path;
            });
        }
        return events;
    }

    private static String hex(VmStateDecoder decoder) {
        StringBuilder text = new StringBuilder();
        for (byte b : decoder.valueBytes().toArray(ValueLayout.JAVA_BYTE)) {
            text.append(String.format("%02x", b));
        }
        return text.toString();
    }

    private static String field(String name, String type, int size) {
        return Json.field(name, type, size);
    }

    /** A field entry written out, for what the JSON builder has no method for. */
    private static String raw(String json) {
        return json;
    }

    private <T extends MigrationReadException> T fails(Class<T> type, VmStateDecoder decoder) {
        return assertThrows(type, () -> walk(decoder));
    }

    // ------------------------------------------------------------------ fields

    @Test
    void valuesOfEachKind() {
        byte[] bytes = StreamBuilder.empty().u8(1).u8(0xff).u16(0xfffe).u32(0xfffffffeL).u64(-1).u64(-2)
                .bytes('a', 'b', 'c').u32(0x80000000L).toByteArray();
        VmStateDecoder d = decoder(bytes, field("b", "bool", 1), field("i8", "int8", 1), field("u16", "uint16", 2),
                field("i32", "int32", 4), field("u64", "uint64", 8), field("i64", "int64", 8),
                field("buf", "buffer", 3), field("le", "int32 le", 4));

        assertEquals(MigrationEvent.FIELD, d.next());
        assertEquals(FieldKind.BOOL, d.field().kind());
        assertTrue(d.booleanValue());
        assertEquals(-1, d.fieldIndex(), "not an array element");
        assertEquals(0, at.eventOffset());

        d.next();
        assertEquals(FieldKind.SIGNED, d.field().kind());
        assertEquals(-1, d.integerValue(), "int8 0xff sign-extended");
        assertEquals(BigInteger.valueOf(-1), d.bigIntegerValue());
        d.next();
        assertEquals(FieldKind.UNSIGNED, d.field().kind());
        assertEquals(0xfffe, d.integerValue());
        d.next();
        assertEquals(-2, d.integerValue());
        assertEquals(4, d.valueLength());
        d.next();
        assertEquals(-1, d.integerValue(), "64 bits: the raw value");
        assertEquals(new BigInteger("18446744073709551615"), d.bigIntegerValue());
        d.next();
        assertEquals(-2, d.integerValue());
        assertEquals(BigInteger.valueOf(-2), d.bigIntegerValue());
        assertEquals(16, at.eventOffset(), "each field is an event at its offset");
        d.next();
        assertEquals(FieldKind.BYTES, d.field().kind());
        assertArrayEquals(new byte[] {'a', 'b', 'c'}, d.valueBytes().toArray(ValueLayout.JAVA_BYTE));
        d.next();
        assertEquals("int32 le", d.field().type());
        assertEquals(Integer.MIN_VALUE, d.integerValue(), "'int32 le' is a check on load, read big-endian and signed");
        assertEquals(MigrationEvent.SECTION_END, d.next());
        assertEquals(bytes.length, in.position());
    }

    @Test
    void arrayLenElements() {
        byte[] bytes = StreamBuilder.empty().u16(1).u16(2).u16(3).u8(9).u8(7).toByteArray();
        VmStateDecoder d = decoder(bytes, Json.arrayField("r", "uint16", 2, 3), Json.arrayField("one", "uint8", 1, 1),
                raw("{\"name\": \"zero\", \"array_len\": 0, \"type\": \"uint8\", \"size\": 1}"));
        assertEquals(List.of("FIELD dev/r[0]=0001", "FIELD dev/r[1]=0002", "FIELD dev/r[2]=0003", "FIELD dev/one[0]=09",
                "FIELD dev/zero[0]=07"), walk(d), "array_len 0 keeps one element, as the reference expands it");
    }

    @Test
    void indexGivenAlone() {
        VmStateDecoder d = decoder(new byte[] {4, 5}, Json.indexField("x", "uint8", 1, 5), field("y", "uint8", 1));
        assertEquals(List.of("FIELD dev/x[5]=04", "FIELD dev/y=05"), walk(d));
    }

    /** QEMU 9.1+ splits an array around null pointers; 10.2 indexes every entry but the last, which is the next element. */
    @Test
    void arraysSplitAroundNullPointers() {
        byte[] bytes = {7, '0', 9, 3, '0', 4};
        VmStateDecoder d = decoder(bytes, Json.indexField("x", "uint8", 1, 0), Json.indexField("x", "nullptr", 1, 1),
                field("x", "uint8", 1), field("after", "uint8", 1), Json.indexField("y", "nullptr", 1, 0),
                field("y", "uint8", 1));
        assertEquals(List.of("FIELD dev/x[0]=07", "FIELD dev/x[1]=30", "FIELD dev/x[2]=09", "FIELD dev/after=03",
                "FIELD dev/y[0]=30", "FIELD dev/y[1]=04"), walk(d));
    }

    @Test
    void aCapability() {
        byte[] bytes = StreamBuilder.empty().str8("mapped-ram").str8("").toByteArray();
        VmStateDecoder d = decoder(bytes, Json.arrayField("caps", "capability", 11, 2));
        assertEquals(MigrationEvent.FIELD, d.next());
        assertEquals(FieldKind.CAPABILITY, d.field().kind());
        assertEquals("mapped-ram", d.stringValue());
        assertEquals(10, d.valueLength(), "the name; its length byte is not part of the value");
        assertEquals(MigrationEvent.FIELD, d.next());
        assertEquals("", d.stringValue());
        assertEquals(MigrationEvent.SECTION_END, d.next());
    }

    @Test
    void nullPointers() {
        VmStateDecoder ok = decoder(new byte[] {'0'}, field("p", "nullptr", 1));
        assertEquals(MigrationEvent.FIELD, ok.next());
        assertEquals(FieldKind.NULLPTR, ok.field().kind());

        VmStateDecoder wrong = decoder(new byte[] {5, '1'}, field("a", "uint8", 1), field("p", "nullptr", 1));
        MalformedStreamException e = fails(MalformedStreamException.class, wrong);
        assertEquals("expected the nullptr marker '0' (0x30) for field 'p', found 0x31", e.problem());
        assertEquals(1, e.eventOffset());
        assertEquals(2, e.position());

        MalformedStreamException size = fails(MalformedStreamException.class,
                decoder(new byte[] {'0', '0'}, field("p", "nullptr", 2)));
        assertEquals("field 'p' of type 'nullptr' has size 2 in the JSON VM description", size.problem());
    }

    @Test
    void sizesTheDescriptionMustGive() {
        MalformedStreamException zero = fails(MalformedStreamException.class,
                decoder(new byte[8], field("i", "int32", 0)));
        assertEquals("field 'i' of type 'int32' has size 0 in the JSON VM description", zero.problem());
        assertEquals(0, zero.eventOffset());
        MalformedStreamException none = fails(MalformedStreamException.class,
                decoder(new byte[8], raw("{\"name\": \"b\", \"type\": \"buffer\"}")));
        assertEquals("field 'b' of type 'buffer' has no size in the JSON VM description", none.problem());
        MalformedStreamException bool = fails(MalformedStreamException.class,
                decoder(new byte[8], raw("{\"name\": \"f\", \"type\": \"bool\"}")));
        assertEquals("field 'f' of type 'bool' has no size in the JSON VM description", bool.problem());
        assertEquals(List.of("FIELD dev/empty=", "FIELD dev/next=01"),
                walk(decoder(new byte[] {1}, field("empty", "buffer", 0), field("next", "uint8", 1))),
                "a buffer of size 0 takes no bytes");
    }

    @Test
    void aFieldCutShortNamesTheField() {
        VmStateDecoder d = decoder(new byte[] {1, 2, 3, 4, 5}, field("a", "uint16", 2), field("u", "uint64", 8));
        TruncatedInputException e = fails(TruncatedInputException.class, d);
        assertEquals("expected 8 bytes of field 'u', found the end of the file (at byte 5)", e.problem());
        assertEquals(2, e.eventOffset());
        assertEquals(5, e.position());
        assertEquals("FIELD", e.event());
    }

    @Test
    void theFieldBytesLimit() {
        ReadLimits small = ReadLimits.builder().maxFieldBytes(99).build();
        LimitExceededException e = fails(LimitExceededException.class,
                decoder(new byte[200], small, new String[] {field("ok", "buffer", 99), field("big", "buffer", 100)}));
        assertEquals("too many bytes in field 'big': 100, over the limit of 99 (see ReadLimits)", e.problem());
        assertEquals(99, e.eventOffset());
    }

    // ------------------------------------------------------------------ structs and subsections

    private static String struct(String vmsdName, String[] fields, String... subsections) {
        return Json.struct(vmsdName, 1, fields, subsections);
    }

    @Test
    void structsNestedAndInArrays() {
        String inner = struct("inner", new String[] {field("v", "uint8", 1)});
        String outer = struct("outer", new String[] {field("a", "uint8", 1), Json.structField("in", -1, 1, inner)});
        String array = "{\"name\": \"s\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + outer + ", \"size\": 2}";
        byte[] bytes = {1, 2, 3, 4, 5};
        VmStateDecoder d = decoder(bytes, array, field("last", "uint8", 1));
        assertEquals(List.of(
                "STRUCT_START dev/s[0]", "FIELD dev/s[0]/a=01", "STRUCT_START dev/s[0]/in", "FIELD dev/s[0]/in/v=02",
                "STRUCT_END dev/s[0]", "STRUCT_END dev",
                "STRUCT_START dev/s[1]", "FIELD dev/s[1]/a=03", "STRUCT_START dev/s[1]/in", "FIELD dev/s[1]/in/v=04",
                "STRUCT_END dev/s[1]", "STRUCT_END dev",
                "FIELD dev/last=05"), walk(d));
    }

    @Test
    void subsectionsAfterTheFields() {
        String one = struct("dev/one", new String[] {field("c", "uint16", 2)});
        String inner = struct("inner", new String[] {field("v", "uint8", 1)}, struct("inner/sub",
                new String[] {field("w", "uint8", 1)}));
        String two = struct("dev/two", new String[] {Json.structField("s", -1, 1, inner)});
        byte[] bytes = StreamBuilder.empty().u8(9)
                .subsection("dev/one", 3).u16(0x0102)
                .subsection("dev/two", 1).u8(5).subsection("inner/sub", 1).u8(6)
                .toByteArray();
        VmStateDecoder d = decoder(bytes, ReadLimits.DEFAULT, new String[] {field("a", "uint8", 1)}, one, two);
        assertEquals(List.of("FIELD dev/a=09",
                "SUBSECTION dev/dev/one v3", "FIELD dev/dev/one/c=0102", "SUBSECTION_END dev",
                "SUBSECTION dev/dev/two v1", "STRUCT_START dev/dev/two/s", "FIELD dev/dev/two/s/v=05",
                "SUBSECTION dev/dev/two/s/inner/sub v1", "FIELD dev/dev/two/s/inner/sub/w=06",
                "SUBSECTION_END dev/dev/two/s", "STRUCT_END dev/dev/two", "SUBSECTION_END dev"), walk(d));
        assertEquals(bytes.length, in.position());
    }

    @Test
    void aSubsectionTheStreamDoesNotCarry() {
        String one = struct("dev/one", new String[] {field("c", "uint8", 1)});
        byte[] bytes = StreamBuilder.empty().u8(9).footer(2).toByteArray();
        MalformedStreamException e = fails(MalformedStreamException.class,
                decoder(bytes, ReadLimits.DEFAULT, new String[] {field("a", "uint8", 1)}, one));
        assertEquals("expected subsection 'dev/one' (QEMU_VM_SUBSECTION 0x05), found 0x7e", e.problem());
        assertEquals(1, e.eventOffset());
        assertEquals(2, e.position());
        assertEquals("SUBSECTION", e.event());
    }

    // ------------------------------------------------------------------ limits

    /** Values of no bytes and struct starts are counted over every section the decoder reads. */
    @Test
    void theEmptyValuesLimit() {
        ReadLimits three = ReadLimits.builder().maxEmptyValues(3).build();
        String empty = struct("e", new String[0]);
        String[] fields = {field("z", "buffer", 0), Json.structField("s", -1, 0, empty)};
        VmStateDecoder d = decoder(new byte[0], three, fields);
        assertEquals(List.of("FIELD dev/z=", "STRUCT_START dev/s", "STRUCT_END dev"), walk(d));
        d.openSection(DEV, DescriptionParser.parse(Json.description(4096, Json.device(DEV, 0, 1, fields))
                .getBytes(StandardCharsets.UTF_8), 0, ReadLimits.DEFAULT).device(DEV, 0).body());
        assertEquals(MigrationEvent.FIELD, d.next(), "the third");
        LimitExceededException e = assertThrows(LimitExceededException.class, d::next);
        assertEquals("too many field values of no bytes: 4, over the limit of 3 (see ReadLimits)", e.problem());
    }

    /** Parsed with the default limits, decoded with a lower nesting limit: the decoder's own check fires. */
    @Test
    void theNestingLimit() {
        String level3 = struct("l3", new String[] {field("v", "uint8", 1)});
        String level2 = struct("l2", new String[] {Json.structField("c", -1, 1, level3)});
        String level1 = struct("l1", new String[] {Json.structField("b", -1, 1, level2)});
        ReadLimits two = ReadLimits.builder().maxNestingDepth(2).build();
        VmStateDecoder d = decoder(new byte[] {1}, two, new String[] {Json.structField("a", -1, 1, level1)});
        assertEquals(MigrationEvent.STRUCT_START, d.next());
        assertEquals(MigrationEvent.STRUCT_START, d.next());
        LimitExceededException e = assertThrows(LimitExceededException.class, d::next);
        assertEquals("too many struct nesting: 3, over the limit of 2 (see ReadLimits)", e.problem());
        assertEquals(0, e.eventOffset());

        ReadLimits three = ReadLimits.builder().maxNestingDepth(3).build(); // three structs deep: allowed
        assertEquals(7, walk(decoder(new byte[] {1}, three, new String[] {Json.structField("a", -1, 1, level1)})).size());
    }

    // ------------------------------------------------------------------ scopes

    @Test
    void scopesLeadOutToTheSection() {
        String inner = struct("inner", new String[] {field("v", "uint8", 1)});
        String array = "{\"name\": \"s\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + inner + ", \"size\": 1}";
        VmStateDecoder d = decoder(new byte[] {1, 2}, array);
        ReadScope section = d.scope();
        assertEquals(ReadScope.Kind.SECTION, section.kind());
        assertEquals(DEV, section.name());
        assertEquals(-1, section.index());
        assertNull(section.parent());
        assertEquals(0, section.depth());
        assertEquals(0, d.depth());
        section.setCurrentValue("section value");

        assertEquals(MigrationEvent.STRUCT_START, d.next());
        ReadScope first = d.scope();
        assertEquals(ReadScope.Kind.STRUCT, first.kind());
        assertEquals("s", first.name());
        assertEquals(0, first.index());
        assertSame(section, first.parent());
        assertEquals(1, first.depth());
        assertEquals("dev/s[0]", first.path());
        assertEquals("STRUCT dev/s[0]", first.toString());
        first.setCurrentValue("first element");

        assertEquals(MigrationEvent.FIELD, d.next());
        assertEquals(MigrationEvent.STRUCT_END, d.next());
        assertSame(section, d.scope(), "on STRUCT_END: the scope around the one closed");
        assertEquals("section value", d.scope().currentValue());

        assertEquals(MigrationEvent.STRUCT_START, d.next());
        assertSame(first, d.scope(), "scope objects are reused level by level");
        assertEquals(1, d.scope().index());
        assertNull(d.scope().currentValue(), "cleared when opened again");
        d.next();
        d.next();
        assertEquals(MigrationEvent.SECTION_END, d.next());
        assertSame(section, d.scope(), "the section's scope stays open for SECTION_END and its footer");
        d.closeAll();
        assertNull(d.scope());
        assertEquals(-1, d.depth());
    }

    @Test
    void aSectionWithoutBodyEndsAtOnce() {
        VmStateDecoder d = decoder(new byte[0]);
        d.openSection("ram", null);
        assertEquals(MigrationEvent.SECTION_END, d.next());
        assertEquals("ram", d.scope().name());
        assertFalse(d.scope().path().isEmpty());
    }

    // ------------------------------------------------------------------ through the reader

    /** The reader hands out the same paths and values from every source; a stream holds the device state. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void throughTheReader(SourceKind kind) {
        String inner = struct("inner", new String[] {Json.arrayField("r", "uint32", 4, 2)});
        String sub = struct("timer/extra", new String[] {field("e", "int8", 1)});
        String device = Json.deviceWithSubsections("timer", 0, 2,
                new String[] {field("t", "int64", 8), Json.structField("cpu", -1, 8, inner)}, sub);
        StreamBuilder b = StreamBuilder.stream();
        long section = b.position();
        byte[] bytes = b.sectionFull(3, "timer", 0, 2).u64(-5).u32(1).u32(2).subsection("timer/extra", 1).u8(0xfe)
                .footer(3).eof().description(Json.description(4096, device)).toByteArray();
        List<String> paths = new ArrayList<>();
        try (MigrationReader reader = kind.open(bytes)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                switch (e) {
                    case FIELD -> paths.add(reader.fieldPath() + "=" + reader.fieldLongValue());
                    case STRUCT_START, SUBSECTION -> paths.add(e + " " + reader.fieldPath());
                    case SECTION_START -> assertEquals(section, reader.eventOffset());
                    default -> {
                    }
                }
            }
        }
        assertEquals(List.of("timer/t=-5", "STRUCT_START timer/cpu", "timer/cpu/r[0]=1", "timer/cpu/r[1]=2",
                "SUBSECTION timer/timer/extra", "timer/timer/extra/e=-2"), paths);
    }
}
