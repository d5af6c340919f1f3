package io.qevm.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure;
import io.qevm.Container;
import io.qevm.EventDigest;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libvirt save images ({@code virsh save}, managed save, external snapshots' memory files): the
 * header in either byte order, versions 1 and 2, every format (0 raw, 1-5 compressed payloads
 * made by the real commands, 6 sparse), the domain XML handed out without its padding.
 */
class LibvirtImageTest {

    private static final String XML = "<domain type='kvm'>\n  <name>vm</name>\n</domain>\n";
    private static final String COOKIE = "<qemuCookie/>\n";
    private static final String[] FORMATS = {"raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse"};

    /** The QEMU stream inside: a real one. */
    private static byte[] stream() {
        return CleanFailure.sample("n-ignore-shared");
    }

    /**
     * A save image as libvirt writes it: the header in {@code order}, the XML, NUL, the cookie at
     * cookieOffset, NUL padding to {@code dataLength}, then the payload.
     */
    static byte[] image(int version, int format, ByteOrder order, byte[] payload, String magic) {
        byte[] xml = XML.getBytes(StandardCharsets.UTF_8);
        byte[] cookie = COOKIE.getBytes(StandardCharsets.UTF_8);
        int cookieOffset = xml.length + 1;
        int dataLength = cookieOffset + cookie.length + 1 + 200; // padding, as libvirt leaves room
        ByteBuffer header = ByteBuffer.allocate(LibvirtHeader.BYTES).order(order);
        header.put(magic.getBytes(StandardCharsets.US_ASCII));
        header.putInt(version).putInt(dataLength).putInt(1).putInt(format).putInt(cookieOffset);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header.array());
        byte[] data = new byte[dataLength];
        System.arraycopy(xml, 0, data, 0, xml.length);
        System.arraycopy(cookie, 0, data, cookieOffset, cookie.length);
        out.writeBytes(data);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    private static int dataLength() {
        return XML.getBytes(StandardCharsets.UTF_8).length + 1 + COOKIE.length() + 1 + 200;
    }

    private static String digest(SourceKind kind, byte[] bytes) {
        try (MigrationReader reader = kind.open(bytes)) {
            return EventDigest.of(reader);
        }
    }

    /** Every compressed format, both byte orders, every source kind: the stream inside, as it reads bare. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void compressedPayloads(int format) {
        String bare = digest(SourceKind.HEAP, stream());
        byte[] payload = Tools.compress(stream(), FORMATS[format]);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            byte[] image = image(2, format, order, payload, "LibvirtQemudSave");
            long at = LibvirtHeader.BYTES + dataLength();
            for (SourceKind kind : SourceKind.values()) {
                assertEquals(bare, digest(kind, image), kind + " " + order);
                try (MigrationReader reader = kind.open(image)) {
                    assertEquals(List.of(new Container.LibvirtImage("LibvirtQemudSave", 2, format, true, dataLength(),
                            XML, at), new Container.Compressed(FORMATS[format], at)), reader.containers());
                    assertEquals(0, reader.streamStart(), "offsets count in the decompressed stream");
                }
            }
        }
    }

    /** Raw and sparse payloads are read in place: offsets stay the file's. */
    @ParameterizedTest
    @ValueSource(ints = {0, 6})
    void rawPayloads(int format) {
        byte[] image = image(2, format, ByteOrder.BIG_ENDIAN, stream(), "LibvirtQemudPart");
        long at = LibvirtHeader.BYTES + dataLength();
        for (SourceKind kind : SourceKind.values()) {
            try (MigrationReader reader = kind.open(image)) {
                assertEquals(at, reader.streamStart());
                assertEquals(List.of(new Container.LibvirtImage("LibvirtQemudPart", 2, format, true, dataLength(), XML,
                        at)), reader.containers());
                assertEquals(kind != SourceKind.STREAM, reader.isRandomAccess());
                CleanFailure.drain(reader, 1_000_000);
            }
        }
    }

    /** Header version 1 is always raw, whatever its format field says (libvirt decompresses version 2 only). */
    @ParameterizedTest
    @ValueSource(ints = {1, 5, 9})
    void version1IsRaw(int format) {
        byte[] image = image(1, format, ByteOrder.LITTLE_ENDIAN, stream(), "LibvirtQemudSave");
        try (MigrationReader reader = SourceKind.MAPPED.open(image)) {
            assertEquals(List.of(new Container.LibvirtImage("LibvirtQemudSave", 1, format, true, dataLength(), XML,
                    LibvirtHeader.BYTES + dataLength())), reader.containers());
            CleanFailure.drain(reader, 1_000_000);
        }
    }

    /** The real samples: virsh save with qemu.conf save_image_format gzip and zstd. */
    @ParameterizedTest
    @ValueSource(strings = {"k-libvirt-save-gzip", "k-libvirt-save-zstd"})
    void realSamples(String name) {
        byte[] image = CleanFailure.sample(name);
        String bare = digest(SourceKind.HEAP, CleanFailure.sample("k2-libvirt-save-stripped"));
        for (SourceKind kind : SourceKind.values()) {
            assertEquals(bare, digest(kind, image), kind.toString());
        }
        try (MigrationReader reader = SourceKind.MAPPED.open(image)) {
            Container.LibvirtImage libvirt = (Container.LibvirtImage) reader.containers().get(0);
            assertEquals(66628, libvirt.dataLength());
            assertEquals(66720, libvirt.streamOffset());
            assertTrue(libvirt.domainXml().startsWith("<domain type='qemu'"), libvirt.domainXml());
            assertTrue(libvirt.domainXml().endsWith("</domain>\n"), "no NUL, no cookie: " + libvirt.domainXml());
        }
    }

    /** Format numbers past 6 in a version 2 header: named at the field. */
    @Test
    void unknownFormat() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            for (int format : new int[] {7, 255, -1}) {
                byte[] image = image(2, format, order, stream(), "LibvirtQemudSave");
                MalformedStreamException e = assertThrows(MalformedStreamException.class,
                        () -> SourceKind.HEAP.open(image).close());
                assertEquals(Messages.libvirtFormat(Integer.toUnsignedLong(format)), e.problem());
                assertEquals(28, e.eventOffset());
            }
        }
    }

    @Test
    void unknownVersion() {
        byte[] image = image(3, 0, ByteOrder.LITTLE_ENDIAN, stream(), "LibvirtQemudSave");
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> SourceKind.STREAM.open(image).close());
        assertEquals(Messages.libvirtVersion(3, 0x03000000L), e.problem());
        assertEquals(16, e.eventOffset());
    }

    /** A format that names a compression its payload does not have: the payload's first bytes named. */
    @Test
    void payloadNotOfItsFormat() {
        byte[] image = image(2, 5, ByteOrder.LITTLE_ENDIAN, Tools.compress(stream(), "gzip"), "LibvirtQemudSave");
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> SourceKind.MAPPED.open(image).close());
        assertEquals(LibvirtHeader.BYTES + dataLength(), e.eventOffset());
        assertTrue(e.problem().startsWith("expected zstd data after the libvirt header and XML (its format 5), found"
                + " bytes 1f 8b 08"), e.problem());
    }

    /** The header cut short, the XML's length past the end: on a file and on a stream. */
    @Test
    void cutShort() {
        byte[] image = image(2, 1, ByteOrder.LITTLE_ENDIAN, Tools.compress(stream(), "gzip"), "LibvirtQemudSave");
        TruncatedInputException header = assertThrows(TruncatedInputException.class,
                () -> SourceKind.HEAP.open(Arrays.copyOf(image, 40)).close());
        assertEquals(Messages.truncated("libvirt save header", 92, Messages.endOfSource("file", 40)), header.problem());
        int inXml = LibvirtHeader.BYTES + 20;
        TruncatedInputException file = assertThrows(TruncatedInputException.class,
                () -> SourceKind.HEAP.open(Arrays.copyOf(image, inXml)).close());
        assertEquals(Messages.libvirtDataBeyondEnd(dataLength(), inXml), file.problem());
        TruncatedInputException stream = assertThrows(TruncatedInputException.class,
                () -> SourceKind.STREAM.open(Arrays.copyOf(image, inXml)).close());
        assertEquals(Messages.libvirtDataPastTheEnd(dataLength(), "input", inXml), stream.problem());
        assertEquals(20, stream.eventOffset());
        // the compressed payload cut: named in the file's bytes
        int inPayload = LibvirtHeader.BYTES + dataLength() + 1000;
        MigrationReadException payload = CleanFailure.readAll(SourceKind.MAPPED, Arrays.copyOf(image, inPayload),
                ReadOptions.DEFAULT, 1_000_000);
        assertEquals(TruncatedInputException.class, payload.getClass());
        assertEquals(inPayload, payload.position());
        assertEquals(Messages.compressedTruncated("gzip", "file"), payload.problem());
    }

    /** A libvirt image whose payload stream is broken: the error counts in the decompressed payload. */
    @Test
    void brokenStreamInsideACompressedPayload() {
        byte[] broken = StreamBuilder.stream().u8(0x42).toByteArray();
        byte[] image = image(2, 3, ByteOrder.LITTLE_ENDIAN, Tools.compress(broken, "xz"), "LibvirtQemudSave");
        MigrationReadException e = CleanFailure.readAll(SourceKind.STREAM, image, ReadOptions.DEFAULT, 100);
        assertEquals(MalformedStreamException.class, e.getClass(), e.getMessage());
        assertEquals(8, e.eventOffset());
        assertEquals("xz-decompressed stream", e.stream());
    }
}
