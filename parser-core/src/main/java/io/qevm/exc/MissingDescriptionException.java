package io.qevm.exc;

/**
 * The file has no JSON VM description (QEMU_VM_VMDESCRIPTION) at its end, as QEMU writes it with
 * {@code suppress-vmdesc=on}: device sections cannot be decoded without it.
 */
public final class MissingDescriptionException extends MalformedStreamException {

    private static final long serialVersionUID = 1L;

    /**
     * Makes an exception for a stream without its JSON VM description.
     *
     * @param problem what went wrong, without the location (see {@link #problem()})
     * @param where   where the reader was
     */
    public MissingDescriptionException(String problem, ReadContext where) {
        super(problem, where);
    }
}
