package io.isthmus.mesh.daemon;

import java.util.Locale;

/** What a caller of the admin API may do. */
public enum AdminRole {
    /** Read, watch, status and explain, and every write. */
    ADMIN("admin"),
    /** Read, watch, status and explain; no writes. */
    READ_ONLY("read-only");

    private final String roleName;

    AdminRole(String roleName) {
        this.roleName = roleName;
    }

    /**
     * Returns the name used in tokens files and the daemon configuration.
     *
     * @return {@code admin} or {@code read-only}
     */
    public String roleName() {
        return roleName;
    }

    /**
     * Parses a role name.
     *
     * @param name {@code admin} or {@code read-only}
     * @return the role
     * @throws IllegalArgumentException naming the value and the expected names
     */
    public static AdminRole parse(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (AdminRole role : values()) {
            if (role.roleName.equals(lower)) {
                return role;
            }
        }
        throw new IllegalArgumentException("role: \"" + name + "\" (expected: admin or read-only)");
    }
}
