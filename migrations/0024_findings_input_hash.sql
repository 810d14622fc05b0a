-- Issue 22 (the check run against its floors): a hash of what a rule built a finding's facts
-- from, so a check run recognises an unchanged hit by (resource, input hash) and builds facts
-- only for new or changed hits. Null for every finding written before: the next check builds
-- and compares their facts once (no transition when they are equal) and stores the hash.
ALTER TABLE "findings" ADD COLUMN "input_hash" bigint;
