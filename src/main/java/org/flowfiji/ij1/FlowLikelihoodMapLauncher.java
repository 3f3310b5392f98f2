package org.flowfiji.ij1;

import org.flowfiji.fiji.FlowLikelihoodMapCommand;

/** ImageJ 1.x menu entry for {@link FlowLikelihoodMapCommand} (see {@link CommandLauncher}). */
public final class FlowLikelihoodMapLauncher extends CommandLauncher {

    public FlowLikelihoodMapLauncher() {
        super(FlowLikelihoodMapCommand.class);
    }
}
