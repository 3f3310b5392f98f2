package org.flowfiji.flow;

import java.util.Locale;

/** The three image flows this toolkit builds. */
public enum Architecture {
    /** Dinh et al. 2017: checkerboard and channel-wise affine couplings, multi-scale. */
    REALNVP,
    /** Kingma and Dhariwal 2018: ActNorm, invertible 1x1 convolution, affine coupling, learned priors. */
    GLOW,
    /** Kingma et al. 2016: inverse autoregressive flow, parallel sampling, sequential density. */
    IAF;

    /** Parses "realnvp", "RealNVP", "glow", "iaf" (any case). */
    public static Architecture parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown architecture '" + name + "': use RealNVP, Glow or IAF");
        }
    }

    /** The name users see: RealNVP, Glow, IAF. */
    public String label() {
        return switch (this) {
            case REALNVP -> "RealNVP";
            case GLOW -> "Glow";
            case IAF -> "IAF";
        };
    }
}
