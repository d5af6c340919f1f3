package io.qevm.vmstate;

import io.qevm.FieldKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON VM description (QEMU_VM_VMDESCRIPTION) as the reader needs it: per device, the fields
 * and subsections in stream order. Built once by {@link DescriptionParser}; immutable after.
 *
 * <p>Where a key repeats, the last value wins, as Python's {@code json.loads} has it in the
 * reference script.
 */
public final class Description {

    private final long pageSize;
    private final Struct configuration;
    private final Map<DeviceKey, Device> devices;

    Description(long pageSize, Struct configuration, List<Device> devices) {
        this.pageSize = pageSize;
        this.configuration = configuration;
        this.devices = new HashMap<>(devices.size() * 2);
        for (Device device : devices) {
            this.devices.put(new DeviceKey(device.name, device.instanceId), device);
        }
    }

    /** The JSON's {@code page_size}, or -1 when absent. */
    public long pageSize() {
        return pageSize;
    }

    /** The {@code configuration} entry (QEMU 8.2+), or {@code null}. */
    public Struct configuration() {
        return configuration;
    }

    /** The device a section header names, or {@code null} when the JSON has none. */
    public Device device(String name, long instanceId) {
        return devices.get(new DeviceKey(name, instanceId));
    }

    private record DeviceKey(String name, long instanceId) {
    }

    /** One entry of {@code devices}: a section the JSON describes. */
    public record Device(String name, long instanceId, Struct body) {
    }

    /**
     * A struct, device or subsection body: its fields in stream order, then the subsections that
     * the stream carries after them (each announced by a QEMU_VM_SUBSECTION byte).
     */
    public record Struct(String vmsdName, Field[] fields, Struct[] subsections) {
    }

    /**
     * One field entry.
     *
     * @param name     the field's name
     * @param type     the JSON type string
     * @param kind     how its bytes are read
     * @param size     the JSON {@code size}, or -1 when absent
     * @param count    elements it stands for: {@code array_len}, at least 1
     * @param hasIndex whether elements are array entries ({@code array_len} or {@code index} given)
     * @param index    the JSON {@code index} when given without {@code array_len}, else 0
     * @param struct   the nested struct for {@link FieldKind#STRUCT}, else {@code null}
     */
    public record Field(String name, String type, FieldKind kind, long size, int count, boolean hasIndex, long index,
                 Struct struct) {
    }
}
