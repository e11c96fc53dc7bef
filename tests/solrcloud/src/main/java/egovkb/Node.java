package egovkb;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.cloud.ZkTestServer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * One process of a SolrCloud whose parts can be killed apart, for egovkb's
 * failure tests.
 *
 * <p>{@code zk DIR}: a ZooKeeper on 127.0.0.1 keeping its data in DIR;
 * prints {@code zk <host:port>/solr} and {@code ready}.
 *
 * <p>{@code node ZKHOST PORT HOME}: a Solr node on 127.0.0.1:PORT with its
 * cores in HOME (kept: a node started again with the same HOME and PORT is
 * the same node); prints {@code node <port> <base URL>} and {@code ready}.
 *
 * <p>Either stops on {@code quit}, the end of its input or a signal.
 */
public final class Node {
  public static void main(String[] args) throws Exception {
    System.setProperty("host", "127.0.0.1");
    Runnable stop;
    if (args.length == 2 && args[0].equals("zk")) {
      ZkTestServer zk = new ZkTestServer(Path.of(args[1]), 0);
      zk.run();
      zk.ensurePathExists("/solr");
      System.out.println("zk " + zk.getZkAddress());
      stop =
          () -> {
            try {
              zk.shutdown();
            } catch (Exception e) {
              System.err.println("stopping ZooKeeper: " + e);
            }
          };
    } else if (args.length == 4 && args[0].equals("node")) {
      Path home = Path.of(args[3]);
      Files.createDirectories(home);
      Path xml = home.resolve("solr.xml");
      if (!Files.exists(xml)) {
        Files.writeString(xml, MiniSolrCloudCluster.DEFAULT_CLOUD_SOLR_XML);
      }
      Properties props = new Properties();
      props.setProperty("zkHost", args[1]);
      JettyConfig config =
          JettyConfig.builder()
              .setPort(Integer.parseInt(args[2]))
              .setContext("/solr")
              .stopAtShutdown(false)
              .build();
      JettySolrRunner node = new JettySolrRunner(home.toString(), props, config);
      node.start();
      System.out.println("node " + node.getLocalPort() + " " + node.getBaseUrl());
      stop =
          () -> {
            try {
              node.stop();
            } catch (Exception e) {
              System.err.println("stopping the node: " + e);
            }
          };
    } else {
      System.err.println("usage: Node zk DIR | Node node ZKHOST PORT HOME");
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(stop));
    System.out.println("ready");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("quit")) {}
    System.exit(0);
  }
}
