GRANT SELECT, INSERT, UPDATE ON "one_time_tokens" TO maxai_app;
