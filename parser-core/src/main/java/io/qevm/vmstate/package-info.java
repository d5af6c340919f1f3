/**
 * Device state (migration/vmstate.c): the JSON VM description, parsed with jackson-core's
 * streaming parser into {@link io.qevm.vmstate.Description}, and the
 * {@link io.qevm.vmstate.VmStateDecoder} that walks it over the stream's bytes: fields, arrays,
 * structs, subsections, and the scopes a reader is in. Not exported by the module; not part of
 * the API.
 */
package io.qevm.vmstate;
