#!/usr/bin/env python3
"""Writes the seed corpus of MigrationReaderFuzzTest (small, valid streams) into
parser-core/src/test/resources/io/qevm/MigrationReaderFuzzTestInputs/.

Run from the repository root: python3 parser-core/src/test/fuzz/make-seeds.py

Three seeds are real samples cut down to a few records (offsets found with MigrationReader on the
samples in src-samples/; each slice is checked to start with the record type byte it should); the
others are built here byte by byte from shared/docs/FORMAT.md, to reach what the small samples do
not have: commands, compressed and XBZRLE pages, htab and s390 sections, mapped-ram, a libvirt
header, a device with structs, arrays, subsections and nullptr.

Files named crash-* in that folder are not made here: they are inputs Jazzer found, kept as
regression tests.
"""
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, '..', '..', '..', '..'))
OUT = os.path.join(REPO, 'parser-core', 'src', 'test', 'resources', 'io', 'qevm', 'MigrationReaderFuzzTestInputs')
PAGE = 4096


def u8(v): return struct.pack('>B', v & 0xff)
def u16(v): return struct.pack('>H', v & 0xffff)
def u32(v): return struct.pack('>I', v & 0xffffffff)
def u64(v): return struct.pack('>Q', v & 0xffffffffffffffff)
def str8(s): b = s.encode(); return u8(len(b)) + b


HEADER = u32(0x5145564d) + u32(3)
EOF = u8(0x00)


def description(obj):
    text = json.dumps(obj).encode()
    return u8(0x06) + u32(len(text)) + text


def sample(name):
    with open(os.path.join(REPO, 'src-samples', name, name + '.mig'), 'rb') as f:
        return f.read()


def piece(data, start, end, first_byte=None):
    if first_byte is not None:
        assert data[start] == first_byte, (start, data[start], first_byte)
    return data[start:end]


def mini(name, pieces, json_at, keep_devices):
    """A sample cut down to the given byte ranges, then EOF and its description with only the
    devices kept."""
    data = sample(name)
    desc = json.loads(data[json_at:])
    desc['devices'] = [d for d in desc['devices'] if d['name'] in keep_devices]
    body = b''.join(piece(data, *p) if isinstance(p, tuple) else p for p in pieces)
    return body + EOF + description(desc)


def footer(sid): return u8(0x7e) + u32(sid)
def section_start(kind, sid, name, instance, version): return u8(kind) + u32(sid) + str8(name) + u32(instance) + u32(version)
def command(cmd, payload=b''): return u8(0x08) + u16(cmd) + u16(len(payload)) + payload
def pattern(size, seed): return bytes((seed + i * 7) & 0xff for i in range(size))
def eos(): return u64(0x10)


def features():
    """QEMU 7.2-style configuration, commands, all RAM encodings, htab, s390, a rich device."""
    ram, htab, s390, dev = 2, 3, 4, 5
    s = HEADER
    s += command(1)                                  # OPEN_RETURN_PATH
    s += command(2, u32(7))                          # PING
    s += command(3, u64(PAGE) + u64(PAGE))           # POSTCOPY_ADVISE
    s += u8(0x07) + u32(2) + b'pc'                   # CONFIGURATION, raw layout
    s += u8(0x05) + str8('configuration/target-page-bits') + u32(1) + u32(12)
    s += u8(0x05) + str8('configuration/capabilities') + u32(1) + u32(1) + str8('validate-uuid')
    s += u8(0x05) + str8('configuration/uuid') + u32(1) + bytes(range(16))
    s += section_start(0x01, ram, 'ram', 0, 4) + u64(5 * PAGE | 0x04)
    s += str8('pc.ram') + u64(4 * PAGE) + str8('/rom@etc/acpi/tables') + u64(PAGE)
    s += eos() + footer(ram)
    page0 = pattern(PAGE, 1)
    s += section_start(0x01, htab, 'spapr/htab', 0, 1) + u32(24) + footer(htab)
    s += section_start(0x01, s390, 's390-storage_attributes', 0, 0) + u64(0x01) + footer(s390)
    s += u8(0x02) + u32(ram)
    s += u64(0x08) + str8('pc.ram') + page0                        # PAGE
    s += u64(0x1000 | 0x02 | 0x20) + u8(0)                         # ZERO, CONTINUE
    z = zlib.compress(pattern(PAGE, 9))
    s += u64(0x2000 | 0x100 | 0x20) + u32(len(z)) + z              # COMPRESS_PAGE
    delta = u8(0) + u8(3) + b'abc' + u8(100) + u8(2) + b'xy'
    s += u64(0x0000 | 0x40 | 0x20) + u8(1) + u16(len(delta)) + delta  # XBZRLE on page 0
    s += u64(0x200)                                                # MULTIFD_FLUSH
    s += u64(0x08) + str8('/rom@etc/acpi/tables') + pattern(PAGE, 5)
    s += eos() + footer(ram)
    s += u8(0x02) + u32(htab) + u32(0) + u32(1) + u16(1) + u16(0) + pattern(16, 3) + u32(0) + u16(0) + u16(0)
    s += footer(htab)
    s += u8(0x02) + u32(s390) + u64(0x02) + u64(3) + b'\x01\x02\x03' + u64(0x01) + footer(s390)
    s += command(11)                                 # SWITCHOVER_START
    s += u8(0x03) + u32(ram) + eos() + footer(ram)
    s += u8(0x03) + u32(htab) + u32(0xffffffff) + footer(htab)
    s += u8(0x03) + u32(s390) + u64(0x08) + u64(0x01) + footer(s390)
    s += section_start(0x04, dev, 'dev', 0, 1)
    s += u8(0x2a) + u32(0xfffffffe) + u8(1) + b'hello' + u16(1) + u16(2) + u16(3)
    s += u64(0x1122334455667788) + b'0' + u8(0x05) + str8('dev/sub') + u32(1) + u32(99)
    s += footer(dev)
    desc = {'page_size': PAGE, 'devices': [{
        'name': 'dev', 'instance_id': 0, 'vmsd_name': 'dev', 'version': 1,
        'fields': [
            {'name': 'a', 'type': 'uint8', 'size': 1},
            {'name': 'b', 'type': 'int32', 'size': 4},
            {'name': 'c', 'type': 'bool', 'size': 1},
            {'name': 'd', 'type': 'buffer', 'size': 5},
            {'name': 'e', 'array_len': 3, 'type': 'uint16', 'size': 2},
            {'name': 's', 'type': 'struct', 'size': 8, 'struct': {
                'vmsd_name': 'inner', 'version': 1, 'fields': [{'name': 't', 'type': 'uint64', 'size': 8}]}},
            {'name': 'p', 'type': 'nullptr', 'size': 1},
        ],
        'subsections': [{'vmsd_name': 'dev/sub', 'version': 1, 'fields': [{'name': 'u', 'type': 'uint32', 'size': 4}]}],
    }]}
    return s + EOF + description(desc)


def mapped_ram():
    """capability mapped-ram: the block's pages lie at fixed offsets, marked in a bitmap."""
    ram = 2
    s = HEADER + u8(0x07) + u32(2) + b'pc'
    s += u8(0x05) + str8('configuration/capabilities') + u32(1) + u32(1) + str8('mapped-ram')
    s += section_start(0x01, ram, 'ram', 0, 4) + u64(2 * PAGE | 0x04) + str8('pc.ram') + u64(2 * PAGE)
    header_at = len(s)
    bitmap_at = header_at + 28
    pages_at = bitmap_at + 8
    s += u32(1) + u64(PAGE) + u64(bitmap_at) + u64(pages_at)
    assert len(s) == bitmap_at
    s += struct.pack('<Q', 0b10)                     # page 1 only
    s += bytes(PAGE) + pattern(PAGE, 4)
    s += eos() + footer(ram) + u8(0x03) + u32(ram) + eos() + footer(ram)
    return s + EOF + description({'page_size': PAGE, 'devices': []})


def libvirt():
    """A libvirt save image (raw format) around a stream with one RAM page."""
    xml = b'<domain type="kvm"><name>seed</name></domain>\0'
    head = b'LibvirtQemudSave' + struct.pack('<IIIII', 2, len(xml), 1, 0, 0) + bytes(14 * 4)
    assert len(head) == 92
    ram = 2
    s = HEADER + section_start(0x01, ram, 'ram', 0, 4) + u64(PAGE | 0x04) + str8('pc.ram') + u64(PAGE)
    s += eos() + footer(ram) + u8(0x03) + u32(ram) + u64(0x08) + str8('pc.ram') + pattern(PAGE, 2)
    s += eos() + footer(ram)
    return head + xml + s + EOF + description({'page_size': PAGE, 'devices': []})


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        # a-pc-paused (QEMU 7.2, pc): configuration, block list, a few zero pages, one data page,
        # END, five device sections
        'a-pc-paused-mini.mig': mini('a-pc-paused', [
            (0, 271, 0x51), (295120, 299299), eos() + footer(2), (497035, 497053, 0x03),
            (497053, 497101, 0x04), (497101, 497138, 0x04), (499185, 499389, 0x04),
            (499389, 499488, 0x04), (509776, 509910, 0x04)],
            509916, {'timer', 'cpu_common', 'apic', 'fw_cfg', 'globalstate'}),
        # g-ignore-shared (7.2, x-ignore-shared): capabilities subsection, mr_addr per block
        'g-ignore-shared-mini.mig': mini('g-ignore-shared', [
            (0, 4457, 0x51), eos() + footer(2), (202211, 202229, 0x03), (202229, 202277, 0x04),
            (202277, 202314, 0x04)],
            215092, {'timer', 'cpu_common'}),
        # n-pc-paused (QEMU 10.x): described configuration, SWITCHOVER_START, two data pages
        'n-pc-paused-mini.mig': mini('n-pc-paused', [
            (0, 263, 0x51), (295121, 303350), eos() + footer(1), (492941, 492964, 0x08),
            (492964, 493168, 0x04), (493168, 493216, 0x04), (493216, 493253, 0x04)],
            505827, {'apic', 'timer', 'cpu_common'}),
        'features.mig': features(),
        'mapped-ram.mig': mapped_ram(),
        'libvirt-raw.mig': libvirt(),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)
        print(f'{name}: {len(data)} bytes')


if __name__ == '__main__':
    main()
