"""The demonstration pair: Oldenburg and Cholet on loopback ports, a few hundred
synthetic residents each, the two mayors among them (they found each other as twins
when the portal opened in 2018, and they do here too).

``population`` invents the residents (pure data, reproducible from a seed),
``seeding`` writes them into a node through the node services, ``pair`` prepares
the data directory and runs both nodes in one process.
"""
