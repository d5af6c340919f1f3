package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageStore;
import io.qevm.ReadScope;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JsonGenerator;

/**
 * Collects the device state as {@code analyze-migration.py -d state} prints it, and writes it:
 * an object keyed {@code "<idstr> (<section id>)"} in first-seen order; RAM as its
 * {@code "section sizes"}; device fields formatted as the reference formats them; iterative
 * sections without a JSON layout (spapr/htab, s390-storage_attributes, Proxmox's pbs-state) as
 * {@code ""}.
 *
 * <p>It holds the device state (small) and the RAM block list, never RAM contents (with
 * {@code -m}, where a page lies, or the page in a spool file), and writes when asked, after the
 * reader's EOF: the reference's output order puts {@code ram} first, and its sizes are final
 * only at the end. The object being filled is kept on the reader's scopes
 * ({@link ReadScope#setCurrentValue}): no stack of its own.
 *
 * <p>Grouping follows the reference: a field whose description has {@code index} or
 * {@code array_len} starts a list, and any later field of a name already present extends it (the
 * arrays QEMU 9.1+ splits into several entries); a subsection replaces what its name held.
 */
public final class StateWriter implements MigrationConsumer, Closeable {

    /** Output per section id, in first-seen order; a re-started id keeps its place. */
    private final Map<Long, SectionState> sections = new LinkedHashMap<>();
    private final boolean withMemory;
    private MigrationReader reader;
    /** The memory object of the RAM section read last: the one pages are asked of. */
    private MemoryDump memory;

    private static final class SectionState {
        String name;
        Object value;
        /** Whether the value is a device's fields (not RAM's sizes, not an opaque section's ""). */
        boolean device;
    }

    /** A writer of {@code -d state}. */
    public StateWriter() {
        this(false);
    }

    /**
     * A writer of {@code -d state}, with each RAM section's {@code "memory"} object when
     * {@code withMemory} (the reference's {@code -m}). That needs the reader open until
     * {@link #writeTo} has run: pages that lie in a file are read again from it; on a stream,
     * the last copy of each page is kept in a temporary spool file (removed by {@link #close()},
     * and unlinked from the start, so nothing is left even if the process is killed).
     *
     * @param withMemory whether to collect RAM contents too
     */
    public StateWriter(boolean withMemory) {
        this.withMemory = withMemory;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) throws java.io.IOException {
        this.reader = reader;
        switch (event) {
            case SECTION_START -> startSection(reader);
            case RAM_PAGE, ZERO_PAGE -> {
                if (withMemory) {
                    memory.record(reader, event == MigrationEvent.ZERO_PAGE);
                }
            }
            case RAM_BLOCK -> ramSizes(reader).put(reader.blockName(), Hex.padded(reader.blockLength(), 16));
            case FIELD -> addField(fieldsOf(reader.scope()), reader.fieldName(), reader.fieldIndex() >= 0,
                    ReferenceFormat.fieldValue(reader));
            case STRUCT_START -> {
                Map<String, Object> struct = new LinkedHashMap<>();
                ReadScope scope = reader.scope();
                addField(fieldsOf(scope.parent()), reader.fieldName(), reader.fieldIndex() >= 0, struct);
                scope.setCurrentValue(struct);
            }
            case SUBSECTION -> {
                Map<String, Object> subsection = new LinkedHashMap<>();
                ReadScope scope = reader.scope();
                fieldsOf(scope.parent()).put(reader.subsectionName(), subsection);
                scope.setCurrentValue(subsection);
            }
            default -> {
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fieldsOf(ReadScope scope) {
        return (Map<String, Object>) scope.currentValue();
    }

    private void startSection(MigrationReader reader) {
        long id = reader.sectionId();
        boolean header = reader.recordType().hasHeader();
        SectionState state = sections.get(id);
        if (state == null || header) {
            if (state == null) {
                state = new SectionState();
                sections.put(id, state);
            } else {
                closeMemory(state.value); // replaced: its spool would stay open until the process ends
            }
            state.name = reader.sectionName();
            // the reader's own layouts are keyed by idstr and instance 0, as the reference keys them
            String layout = reader.instanceId() == 0 ? reader.sectionName() : "";
            state.device = false;
            state.value = switch (layout) {
                case "ram" -> newRamState();
                case "spapr/htab", "s390-storage_attributes", "pbs-state" -> "";
                default -> {
                    state.device = true;
                    yield new LinkedHashMap<String, Object>();
                }
            };
        }
        if (state.device) {
            reader.scope().setCurrentValue(state.value);
        }
        if (withMemory && "ram".equals(state.name) && state.value instanceof Map<?, ?> ram) {
            memory = (MemoryDump) ram.get("memory");
        }
    }

    private Map<String, Object> newRamState() {
        Map<String, Object> ram = new LinkedHashMap<>();
        ram.put("section sizes", new LinkedHashMap<String, Object>());
        if (withMemory) {
            ram.put("memory", new MemoryDump());
        }
        return ram;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> ramSizes(MigrationReader reader) {
        SectionState state = sections.get(reader.sectionId());
        return (Map<String, Object>) ((Map<String, Object>) state.value).get("section sizes");
    }

    @SuppressWarnings("unchecked")
    private static void addField(Map<String, Object> target, String name, boolean isArrayEntry, Object value) {
        Object seen = target.get(name);
        if (seen == null) {
            target.put(name, isArrayEntry ? new ArrayList<>(List.of(value)) : value);
        } else if (seen instanceof List<?> list) {
            ((List<Object>) list).add(value);
        } else {
            target.put(name, new ArrayList<>(List.of(seen, value)));
        }
    }

    /**
     * {@return the pages this writer keeps for {@code -m}, as a {@link PageStore}: a reader over a stream
     * applies XBZRLE deltas to them ({@link MigrationReader#setPageStore})}
     *
     * @throws IllegalStateException if the writer was made without memory
     */
    public PageStore pageStore() {
        if (!withMemory) {
            throw new IllegalStateException("a StateWriter keeps pages only with memory (-m)");
        }
        return (block, offset, into) -> {
            if (memory == null) {
                into.fill((byte) 0);
            } else {
                memory.readPage(reader, block, offset, into);
            }
        };
    }

    /**
     * Writes the collected state to {@code out}, followed by a newline when {@code finalNewline}.
     *
     * @param out          where the JSON goes; not closed
     * @param finalNewline whether a newline follows the JSON
     * @throws IOException if {@code out} fails
     */
    public void writeTo(OutputStream out, boolean finalNewline) throws IOException {
        try (JsonGenerator generator = PythonJson.generator(out)) {
            generator.writeStartObject();
            for (Map.Entry<Long, SectionState> section : sections.entrySet()) {
                generator.writeName(section.getValue().name + " (" + section.getKey() + ")");
                writeValue(generator, section.getValue().value);
            }
            generator.writeEndObject();
        } catch (tools.jackson.core.JacksonException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
        if (finalNewline) {
            out.write('\n');
        }
    }

    private void writeValue(JsonGenerator generator, Object value) throws IOException {
        switch (value) {
            case String text -> generator.writeString(text);
            case Boolean flag -> generator.writeBoolean(flag);
            case List<?> list -> {
                generator.writeStartArray();
                for (Object item : list) {
                    writeValue(generator, item);
                }
                generator.writeEndArray();
            }
            case Map<?, ?> map -> {
                generator.writeStartObject();
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    generator.writeName((String) entry.getKey());
                    writeValue(generator, entry.getValue());
                }
                generator.writeEndObject();
            }
            case MemoryDump dump -> dump.write(generator, reader);
            default -> throw new IllegalStateException("unexpected value " + value.getClass());
        }
    }

    /** Removes the spool files of {@code -m}. */
    @Override
    public void close() {
        for (SectionState state : sections.values()) {
            closeMemory(state.value);
        }
    }

    private static void closeMemory(Object sectionValue) {
        if (sectionValue instanceof Map<?, ?> map && map.get("memory") instanceof MemoryDump dump) {
            dump.close();
        }
    }
}
