package org.flowfiji.cli;

/** Entry point of the {@code flows} command line (subcommands are added as they are built). */
public final class FlowsCommand {
    public static void main(String[] args) {
        System.out.println("flows");
    }
}
