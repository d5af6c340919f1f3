package io.qevm;

import static io.qevm.ReaderTests.NONE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.deviceTrace;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.StreamBuilder.Json;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Device state from every {@link SourceKind}: the JSON description walked over the bytes, field
 * types and their values, arrays, structs and subsections. Where each event sits in the nesting
 * is {@link ReaderScopeTest}'s.
 */
final class ReaderFieldsTest {

    @Test
    void integerTypesSignedAndUnsigned() {
        String[] fields = fields(
                Json.field("i8", "int8", 1), Json.field("i16", "int16", 2), Json.field("i32", "int32", 4),
                Json.field("i64", "int64", 8), Json.field("i32max", "int32", 4),
                Json.field("u8", "uint8", 1), Json.field("u16", "uint16", 2), Json.field("u32", "uint32", 4),
                Json.field("u64", "uint64", 8),
                Json.field("le", "int32 le", 4), Json.field("ieq", "int32 equal", 4),
                Json.field("i64eq", "int64 equal", 8), Json.field("u8eq", "uint8 equal", 1),
                Json.field("u16eq", "uint16 equal", 2), Json.field("u32eq", "uint32 equal", 4));
        List<String> events = deviceTrace(fields, NONE, b -> b
                .u8(0xff).u16(0x8000).u32(0xfffffffeL).u64(0x8000000000000000L).u32(0x7fffffff)
                .u8(0xff).u16(0xffff).u32(0xffffffffL).u64(-1L)
                .u32(0xfffffff6L).u32(0xffffffffL)
                .u64(-5L).u8(0x80)
                .u16(0xfffe).u32(0x80000000L));
        assertEquals(List.of(
                "FIELD i8 SIGNED -1", "FIELD i16 SIGNED -32768", "FIELD i32 SIGNED -2",
                "FIELD i64 SIGNED -9223372036854775808", "FIELD i32max SIGNED 2147483647",
                "FIELD u8 UNSIGNED 255", "FIELD u16 UNSIGNED 65535", "FIELD u32 UNSIGNED 4294967295",
                "FIELD u64 UNSIGNED 18446744073709551615",
                "FIELD le SIGNED -10", "FIELD ieq SIGNED -1", "FIELD i64eq SIGNED -5",
                "FIELD u8eq SIGNED -128", "FIELD u16eq SIGNED -2", "FIELD u32eq UNSIGNED 2147483648"), events);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void integerAccessors(SourceKind kind) throws Exception {
        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
        long firstAt = b.position();
        b.u16(0xfffe).u64(-1L).u8(0x80).u32(0xfffffff6L).footer(3);
        byte[] bytes = b.eof().description(desc(Json.device("dev", 0, 1, Json.field("s", "int16", 2),
                Json.field("u", "uint64", 8), Json.field("ue", "uint8 equal", 1),
                Json.field("le", "int32 le", 4)))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            assertEquals(firstAt, reader.eventOffset());
            assertEquals(firstAt + 2, reader.position());
            assertEquals("int16", reader.fieldType());
            assertEquals(-1, reader.fieldIndex());
            assertEquals(-2, reader.fieldLongValue());
            assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xfe}, bytes(reader.fieldBytes()));
            assertThrows(IllegalStateException.class, reader::fieldBooleanValue);
            assertThrows(IllegalStateException.class, reader::fieldStringValue);
            expect(reader, MigrationEvent.FIELD);
            assertEquals(firstAt + 2, reader.eventOffset());
            assertEquals(-1L, reader.fieldLongValue(), "uint64 above 2^63 comes out negative");
            assertEquals(new BigInteger("18446744073709551615"), reader.fieldBigIntegerValue());
            expect(reader, MigrationEvent.FIELD);
            assertEquals("uint8 equal", reader.fieldType());
            assertEquals(FieldKind.SIGNED, reader.fieldKind());
            assertEquals(-128, reader.fieldLongValue());
            expect(reader, MigrationEvent.FIELD);
            assertEquals("int32 le", reader.fieldType());
            assertEquals(-10, reader.fieldLongValue(), "int32 le is big-endian like the rest");
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    @Test
    void boolAndByteTypes() {
        byte[] float64 = ByteBuffer.allocate(8).putDouble(1.5).array();
        String[] fields = fields(
                Json.field("on", "bool", 1), Json.field("off", "bool", 1), Json.field("two", "bool", 1),
                Json.field("f", "float64", 8), Json.field("t", "timer", 8), Json.field("buf", "buffer", 3),
                Json.field("un", "unused_buffer", 2), Json.field("bm", "bitmap", 4),
                Json.field("cfg", "pci config", 5), Json.field("v", "virtio", 0));
        List<String> events = deviceTrace(fields, NONE, b -> b
                .u8(1).u8(0).u8(2)
                .bytes(float64).u64(0x0102030405060708L).bytes(0xaa, 0xbb, 0xcc)
                .bytes(0, 0).bytes(0xf0, 0x0f, 0, 1).bytes(0x86, 0x80, 0x37, 0x12, 0x00));
        assertEquals(List.of("FIELD on BOOL true", "FIELD off BOOL false", "FIELD two BOOL true",
                "FIELD f BYTES 3ff8000000000000", "FIELD t BYTES 0102030405060708", "FIELD buf BYTES aabbcc",
                "FIELD un BYTES 0000", "FIELD bm BYTES f00f0001", "FIELD cfg BYTES 8680371200",
                "FIELD v BYTES "), events);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void byteFieldsHaveNoIntegerValue(SourceKind kind) throws Exception {
        byte[] bytes = stream().sectionFull(3, "dev", 0, 1).bytes(1, 2, 3).footer(3).eof()
                .description(desc(Json.device("dev", 0, 1, Json.field("b", "buffer", 3)))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            assertEquals(FieldKind.BYTES, reader.fieldKind());
            assertThrows(IllegalStateException.class, reader::fieldLongValue);
            assertThrows(IllegalStateException.class, reader::fieldBigIntegerValue);
            assertThrows(IllegalStateException.class, reader::fieldBooleanValue);
        }
    }

    @Test
    void nullptrAndCapability() {
        String[] fields = fields(Json.field("p", "nullptr", 1), Json.field("cap", "capability", 16),
                Json.field("after", "uint8", 1));
        List<String> events = deviceTrace(fields, NONE, b -> b.u8('0').str8("x-ignore-shared").u8(9));
        assertEquals(List.of("FIELD p NULLPTR 30", "FIELD cap CAPABILITY x-ignore-shared",
                "FIELD after UNSIGNED 9"), events);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void capabilityBytesExcludeTheLengthByte(SourceKind kind) throws Exception {
        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
        long capAt = b.position();
        byte[] bytes = b.str8("mapped-ram").footer(3).eof()
                .description(desc(Json.device("dev", 0, 1, Json.field("c", "capability", 11)))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            assertEquals(capAt, reader.eventOffset());
            assertEquals(capAt + 11, reader.position());
            assertEquals("mapped-ram", reader.fieldStringValue());
            assertEquals("mapped-ram", new String(bytes(reader.fieldBytes()), StandardCharsets.UTF_8));
        }
    }

    @Test
    void arrayLenExpandsToIndexedElements() {
        String[] fields = fields(Json.field("before", "uint8", 1), Json.arrayField("isr", "uint32", 4, 3),
                Json.arrayField("one", "uint8", 1, 1), Json.field("after", "uint8", 1));
        List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u32(10).u32(11).u32(12).u8(7).u8(2));
        assertEquals(List.of("FIELD before UNSIGNED 1", "FIELD isr[0] UNSIGNED 10", "FIELD isr[1] UNSIGNED 11",
                "FIELD isr[2] UNSIGNED 12", "FIELD one[0] UNSIGNED 7", "FIELD after UNSIGNED 2"), events);
    }

    @Test
    void indexEntriesKeepTheirIndex() {
        String[] fields = fields(Json.indexField("q", "uint16", 2, 0), Json.indexField("q", "uint16", 2, 1),
                Json.indexField("q", "uint16", 2, 2));
        List<String> events = deviceTrace(fields, NONE, b -> b.u16(0x100).u16(0x101).u16(0x102));
        assertEquals(List.of("FIELD q[0] UNSIGNED 256", "FIELD q[1] UNSIGNED 257", "FIELD q[2] UNSIGNED 258"),
                events);
    }

    /** QEMU 9.1+ splits an array around null pointers into consecutive entries of one name. */
    @Test
    void splitArrayIsConsecutiveEntriesOfOneName() {
        String[] fields = fields(Json.arrayField("ptrs", "uint8", 1, 2),
                "{\"name\": \"ptrs\", \"index\": 2, \"type\": \"nullptr\", \"size\": 1}",
                Json.field("ptrs", "uint8", 1), Json.field("next", "uint8", 1));
        List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u8(2).u8('0').u8(4).u8(5));
        // the last entry carries no index in the JSON (QEMU 10.2): it is the array's next element
        assertEquals(List.of("FIELD ptrs[0] UNSIGNED 1", "FIELD ptrs[1] UNSIGNED 2", "FIELD ptrs[2] NULLPTR 30",
                "FIELD ptrs[3] UNSIGNED 4", "FIELD next UNSIGNED 5"), events);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void structWithNestedFields(SourceKind kind) throws Exception {
        String inner = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2), Json.field("y", "int8", 1)));
        String[] fields = fields(Json.field("a", "uint8", 1), Json.structField("s", -1, 3, inner),
                Json.field("b", "uint8", 1));
        List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u16(2).u8(0xfd).u8(4));
        assertEquals(List.of("FIELD a UNSIGNED 1", "STRUCT_START s", "FIELD x UNSIGNED 2", "FIELD y SIGNED -3",
                "STRUCT_END", "FIELD b UNSIGNED 4"), events);

        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
        long structAt = b.position();
        byte[] bytes = b.u16(2).u8(0xfd).u8(4).footer(3).eof()
                .description(desc(Json.device("dev", 0, 1, fields))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.STRUCT_START);
            assertEquals(structAt, reader.eventOffset());
            assertEquals("s", reader.fieldName());
            assertEquals("struct", reader.fieldType());
            assertEquals(FieldKind.STRUCT, reader.fieldKind());
            assertEquals(-1, reader.fieldIndex());
            assertThrows(IllegalStateException.class, reader::fieldBytes);
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.STRUCT_END);
            assertEquals(structAt + 3, reader.eventOffset());
            assertThrows(IllegalStateException.class, reader::fieldName);
        }
    }

    @Test
    void structArraysByArrayLenAndByIndex() {
        String body = Json.struct("ring", 1, fields(Json.field("head", "uint16", 2)));
        String[] fields = fields(
                "{\"name\": \"rings\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + body
                        + ", \"size\": 2}",
                Json.structField("tx", 0, 2, body), Json.structField("tx", 1, 2, body));
        List<String> events = deviceTrace(fields, NONE, b -> b.u16(1).u16(2).u16(3).u16(4));
        assertEquals(List.of("STRUCT_START rings[0]", "FIELD head UNSIGNED 1", "STRUCT_END",
                "STRUCT_START rings[1]", "FIELD head UNSIGNED 2", "STRUCT_END",
                "STRUCT_START tx[0]", "FIELD head UNSIGNED 3", "STRUCT_END",
                "STRUCT_START tx[1]", "FIELD head UNSIGNED 4", "STRUCT_END"), events);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void subsectionsWithNameAndVersion(SourceKind kind) throws Exception {
        String sub = Json.struct("dev/extra", 2, fields(Json.field("e", "uint32", 4)));
        String sub2 = Json.struct("dev/more", 1, fields(Json.field("m", "bool", 1)));
        String[] fields = fields(Json.field("a", "uint8", 1));
        List<String> events = deviceTrace(fields, new String[] {sub, sub2}, b -> b.u8(1)
                .subsection("dev/extra", 2).u32(0x12345678).subsection("dev/more", 1).u8(1));
        assertEquals(List.of("FIELD a UNSIGNED 1", "SUBSECTION dev/extra v2", "FIELD e UNSIGNED 305419896",
                "SUBSECTION_END", "SUBSECTION dev/more v1", "FIELD m BOOL true", "SUBSECTION_END"), events);

        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
        long subAt = b.position();
        b.subsection("dev/extra", 2);
        long fieldAt = b.position();
        byte[] bytes = b.u32(0x12345678).subsection("dev/more", 1).u8(1).footer(3).eof()
                .description(desc(Json.deviceWithSubsections("dev", 0, 1, fields, sub, sub2))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.SUBSECTION);
            assertEquals(subAt, reader.eventOffset());
            assertEquals(fieldAt, reader.position());
            assertEquals("dev/extra", reader.subsectionName());
            assertEquals(2, reader.subsectionVersion());
            assertEquals("dev", reader.sectionName());
            assertThrows(IllegalStateException.class, reader::fieldName);
            expect(reader, MigrationEvent.FIELD);
            assertEquals(fieldAt, reader.eventOffset());
            expect(reader, MigrationEvent.SUBSECTION_END);
            assertEquals(fieldAt + 4, reader.eventOffset());
            assertThrows(IllegalStateException.class, reader::subsectionName);
        }
    }

    @Test
    void subsectionsNestedInStructsAndSubsections() {
        String structBody = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2)),
                Json.struct("inner/sub", 1, fields(Json.field("y", "uint32", 4))));
        String[] fields = fields(Json.field("a", "uint8", 1), Json.structField("s", -1, 2, structBody),
                Json.field("b", "uint8", 1));
        String sub = Json.struct("dev/sub", 2, fields(Json.field("z", "int16", 2)),
                Json.struct("dev/sub/inner", 1, fields(Json.field("w", "bool", 1))));
        List<String> events = deviceTrace(fields, new String[] {sub}, b -> b
                .u8(1).u16(2).subsection("inner/sub", 1).u32(3).u8(4)
                .subsection("dev/sub", 2).u16(0xfffb).subsection("dev/sub/inner", 1).u8(0));
        assertEquals(List.of("FIELD a UNSIGNED 1", "STRUCT_START s", "FIELD x UNSIGNED 2",
                "SUBSECTION inner/sub v1", "FIELD y UNSIGNED 3", "SUBSECTION_END", "STRUCT_END",
                "FIELD b UNSIGNED 4", "SUBSECTION dev/sub v2", "FIELD z SIGNED -5",
                "SUBSECTION dev/sub/inner v1", "FIELD w BOOL false", "SUBSECTION_END", "SUBSECTION_END"), events);
    }

    @Test
    void deviceWithNoFields() {
        List<String> events = deviceTrace(NONE, NONE, b -> { });
        assertEquals(List.of(), events);
    }
}
