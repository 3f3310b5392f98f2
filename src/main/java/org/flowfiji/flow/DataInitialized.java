package org.flowfiji.flow;

/**
 * A layer with a data-dependent initialisation (ActNorm): it initialises itself on its first
 * training-mode forward pass and remembers (with its saved parameters) that it did.
 */
public interface DataInitialized {

    /** True once the data-dependent initialisation has run (or was loaded with the parameters). */
    boolean isDataInitialized();
}
