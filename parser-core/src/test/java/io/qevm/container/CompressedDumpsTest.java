package io.qevm.container;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.luben.zstd.ZstdOutputStream;
import io.qevm.CleanFailure;
import io.qevm.Container;
import io.qevm.EventDigest;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.Samples;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Dumps compressed whole (what {@code virsh dump} writes with a dump_image_format, and what
 * users make of their dumps), told by content: each format made by its real command reads as
 * the bare stream does, event for event and offset for offset (offsets count in the decompressed
 * stream), from a mapped file, a heap array and a stream alike.
 */
class CompressedDumpsTest {

    static final List<String> FORMATS = List.of("gzip", "bzip2", "xz", "zstd", "lzop");

    /** A real dump: RAM, device state, the JSON description. */
    static byte[] dump() {
        return CleanFailure.sample("n-pc-paused");
    }

    static String digest(SourceKind kind, byte[] bytes) {
        try (MigrationReader reader = kind.open(bytes)) {
            return EventDigest.of(reader);
        }
    }

    static List<Arguments> formatsAndKinds() {
        return FORMATS.stream().flatMap(f -> Arrays.stream(SourceKind.values()).map(k -> Arguments.of(f, k))).toList();
    }

    @ParameterizedTest
    @MethodSource("formatsAndKinds")
    void eachFormatReadsAsTheBareStream(String format, SourceKind kind) {
        byte[] compressed = Tools.compress(dump(), format);
        assertEquals(digest(SourceKind.HEAP, dump()), digest(kind, compressed));
        try (MigrationReader reader = kind.open(compressed)) {
            assertEquals(List.of(new Container.Compressed(format, 0)), reader.containers());
            assertEquals(0, reader.streamStart());
            assertFalse(reader.isRandomAccess(), "a decompressed stream is read forward");
            CleanFailure.drain(reader, 1_000_000);
            assertEquals(dump().length, reader.sourceSize(), "the decompressed stream's size, once read");
        }
    }

    /** The strongest settings of each command, and lzop's and gzip's fastest. */
    @ParameterizedTest
    @ValueSource(strings = {"gzip -9", "gzip -1", "bzip2 -9", "xz -9e", "zstd -19", "zstd --ultra -22", "lzop -9",
            "lzop -1"})
    void eachLevel(String command) {
        String[] words = command.split(" ");
        byte[] compressed = Tools.compress(dump(), words[0], words[1]);
        assertEquals(digest(SourceKind.HEAP, dump()), digest(SourceKind.STREAM, compressed));
    }

    /**
     * Concatenated members, streams and frames read as one, as the commands read them (pigz,
     * pbzip2, pzstd and {@code cat a.gz b.gz} write them), made by the libraries here.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd"})
    void concatenatedPartsReadAsOne(String format) throws IOException {
        byte[] dump = dump();
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        int[] cuts = {0, 1, 4096, 300_001, dump.length};
        for (int i = 0; i + 1 < cuts.length; i++) {
            joined.write(library(format, Arrays.copyOfRange(dump, cuts[i], cuts[i + 1])));
        }
        assertEquals(digest(SourceKind.HEAP, dump), digest(SourceKind.STREAM, joined.toByteArray()));
        assertEquals(digest(SourceKind.HEAP, dump), digest(SourceKind.HEAP, joined.toByteArray()));
    }

    /** {@code data} compressed by the format's library (the JDK, commons-compress, xz, zstd-jni). */
    static byte[] library(String format, byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = switch (format) {
            case "gzip" -> new GZIPOutputStream(bytes);
            case "bzip2" -> new BZip2CompressorOutputStream(bytes);
            case "xz" -> new XZOutputStream(bytes, new LZMA2Options(1));
            case "zstd" -> new ZstdOutputStream(bytes);
            default -> throw new IllegalArgumentException(format);
        }) {
            out.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Trailing zeros after the last gzip member are ignored, as gzip -dc ignores them. */
    @Test
    void zerosAfterTheLastGzipMember() {
        byte[] compressed = Tools.compress(dump(), "gzip");
        byte[] padded = Arrays.copyOf(compressed, compressed.length + 4096);
        assertEquals(digest(SourceKind.HEAP, dump()), digest(SourceKind.STREAM, padded));
    }

    /**
     * A libvirt image compressed by its user (virsh save, then gzip): the libvirt header is read
     * inside the decompressed stream, whose offsets are the image's own.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "zstd"})
    void aCompressedLibvirtImage(String format) {
        byte[] image = CleanFailure.sample("k-libvirt-save");
        byte[] compressed = Tools.compress(image, format);
        assertEquals(digest(SourceKind.HEAP, image), digest(SourceKind.MAPPED, compressed));
        try (MigrationReader reader = SourceKind.STREAM.open(compressed)) {
            assertEquals(66720, reader.streamStart());
            List<Container> containers = reader.containers();
            assertEquals(new Container.Compressed(format, 0), containers.get(0));
            Container.LibvirtImage libvirt = (Container.LibvirtImage) containers.get(1);
            assertEquals(2, containers.size());
            assertEquals(66720, libvirt.streamOffset());
            assertEquals(0, libvirt.format());
        }
    }

    /**
     * A mapped-ram stream (QEMU's file: migration) compressed whole: read forward, as a pipe reads
     * it (the sample is stored xz-compressed, and read as it is).
     */
    @Test
    void mappedRamInsideXz() throws IOException {
        Path xz = Samples.folder("n-mapped-ram").resolve("n-mapped-ram.mig.xz");
        String plain;
        try (MigrationReader reader = MigrationReader.open(Samples.dump("n-mapped-ram"))) {
            plain = EventDigest.of(reader);
        }
        try (MigrationReader reader = MigrationReader.open(xz)) {
            assertEquals(List.of(new Container.Compressed("xz", 0)), reader.containers());
            assertEquals(plain, EventDigest.of(reader));
        }
        assertEquals(plain, digest(SourceKind.STREAM, Files.readAllBytes(xz)));
    }

    /** Compressed data inside compressed data, up to the bound of nesting. */
    @Test
    void nestedCompression() {
        byte[] data = dump();
        String[] formats = {"zstd", "gzip", "xz", "gzip"};
        for (String format : formats) {
            data = library(format, data);
        }
        try (MigrationReader reader = SourceKind.HEAP.open(data)) {
            assertEquals(List.of(new Container.Compressed("gzip", 0), new Container.Compressed("xz", 0),
                    new Container.Compressed("gzip", 0), new Container.Compressed("zstd", 0)), reader.containers());
            assertEquals(digest(SourceKind.HEAP, dump()), EventDigest.of(reader));
        }
        byte[] tooDeep = library("gzip", data);
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> SourceKind.HEAP.open(tooDeep).close());
        assertEquals(Messages.nestedTooDeep(Containers.MAX_DEPTH), e.problem());
        assertEquals("gzip-decompressed stream", e.stream());
    }

    /** Not a dump inside: the decompressed stream's first bytes named, as a file's would be. */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd", "lzop"})
    void notADumpInside(String format) {
        byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0};
        byte[] compressed = Tools.compress(elf, format);
        for (SourceKind kind : SourceKind.values()) {
            MalformedStreamException e = assertThrows(MalformedStreamException.class,
                    () -> kind.open(compressed).close());
            assertEquals(Messages.badMagic(0x7f454c46), e.problem());
            assertEquals(format + "-decompressed stream", e.stream());
            assertEquals("at byte 0x0 (0) of the " + format + "-decompressed stream: " + Messages.badMagic(0x7f454c46),
                    e.getMessage());
        }
    }

    @Test
    void emptyInside() {
        byte[] compressed = Tools.compress(new byte[0], "gzip");
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> SourceKind.STREAM.open(compressed).close());
        assertEquals("empty gzip-decompressed stream", e.problem());
        assertEquals(0, e.position());
    }

    /** A stream cut short inside a complete compressed file: the end of the decompressed stream is named. */
    @Test
    void aTruncatedDumpInsideCompleteCompression() {
        byte[] cut = Arrays.copyOf(dump(), 300_000);
        MigrationReadException e = CleanFailure.readAll(SourceKind.HEAP, Tools.compress(cut, "zstd"),
                ReadOptions.DEFAULT, 1_000_000);
        assertEquals(TruncatedInputException.class, e.getClass(), e.getMessage());
        assertEquals("zstd-decompressed stream", e.stream());
        assertEquals(300_000, e.position());
        assertEquals(true, e.problem().endsWith("found the end of the zstd-decompressed stream (at byte 300000)"),
                e.getMessage());
        assertEquals(true, e.getMessage().startsWith("at byte 0x" + Long.toHexString(e.eventOffset()) + " ("
                + e.eventOffset() + ") of the zstd-decompressed stream"), e.getMessage());
    }

    /** The same bytes, compressed, that the bare stream fails on: the same failure, located in the decompressed stream. */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd", "lzop"})
    void aBrokenDumpInside(String format) {
        byte[] broken = StreamBuilder.stream().configuration("pc-q35-10.0").u8(0x42).eof()
                .description(StreamBuilder.Json.description(4096)).toByteArray();
        MigrationReadException bare = CleanFailure.readAll(SourceKind.HEAP, broken, ReadOptions.DEFAULT, 1000);
        for (SourceKind kind : SourceKind.values()) {
            MigrationReadException inside = CleanFailure.readAll(kind, Tools.compress(broken, format),
                    ReadOptions.DEFAULT, 1000);
            assertEquals(MalformedStreamException.class, inside.getClass(), inside.getMessage());
            assertEquals(bare.problem(), inside.problem());
            assertEquals(bare.eventOffset(), inside.eventOffset());
            assertEquals(format + "-decompressed stream", inside.stream());
            assertEquals(bare.getMessage().replaceFirst("\\): ", ") of the " + format + "-decompressed stream: "),
                    inside.getMessage());
        }
    }

    @Test
    void byteArrayOfTheArraysOwn() {
        byte[] compressed = Tools.compress(dump(), "gzip");
        byte[] copy = compressed.clone();
        try (MigrationReader reader = MigrationReader.open(compressed, ReadOptions.DEFAULT)) {
            CleanFailure.drain(reader, 1_000_000);
        }
        assertArrayEquals(copy, compressed, "the array is read, never written");
    }
}
