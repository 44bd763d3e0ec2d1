"""Input channels (credentials.yml): REST, socket.io and Slack, all behind one input contract; they may import
Rasa, the glue and the core, never bot.tools."""
