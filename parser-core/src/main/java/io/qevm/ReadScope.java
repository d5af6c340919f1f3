package io.qevm;

/**
 * One level of nesting the reader is in, as jackson-core's {@code TokenStreamContext}: a
 * section record, a struct field, or a subsection. {@link MigrationReader#scope()} is the
 * innermost; {@link #parent()} leads out to the section. On STRUCT_START and SUBSECTION the
 * scope is the one just opened; on STRUCT_END and SUBSECTION_END it is the one around the scope
 * just closed.
 *
 * <p>Scope objects are reused by the reader: hold on to what they say, not to them. A consumer
 * may keep one value of its own on each scope ({@link #setCurrentValue}), as a JSON writer keeps
 * the object it is filling; the value is cleared when the scope is opened again.
 */
public interface ReadScope {

    /** What a scope is. */
    enum Kind {
        /** A section record: {@link #name()} is the section's idstr. */
        SECTION,
        /** A struct-typed field: {@link #name()} is the field's name, {@link #index()} its element. */
        STRUCT,
        /** A subsection: {@link #name()} is its name as the stream gives it. */
        SUBSECTION
    }

    /** {@return what kind of scope this is} */
    Kind kind();

    /** {@return the section's idstr, the struct field's name, or the subsection's name} */
    String name();

    /** {@return the index of a struct that is an array element, else -1} */
    long index();

    /** {@return the scope this one is in, or null for a section} */
    ReadScope parent();

    /** {@return 0 for a section, 1 for what is directly in it, and so on} */
    int depth();

    /**
     * {@return the names from the section down to this scope, joined by {@code /}, array elements with
     * their {@code [index]}: e.g. {@code cpu/env[0]}} Built when asked.
     */
    String path();

    /** {@return the value a consumer set on this scope, or null} */
    Object currentValue();

    /**
     * Keeps {@code value} with this scope until it is closed and opened again.
     *
     * @param value the value, or null
     */
    void setCurrentValue(Object value);
}
