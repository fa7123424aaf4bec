SET FOREIGN_KEY_CHECKS=0;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `members` (
  `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `read_seq` bigint(20) NOT NULL DEFAULT 0,
  `joined_at` bigint(20) NOT NULL,
  PRIMARY KEY (`room_id`,`user_id`),
  KEY `members_by_user` (`user_id`),
  CONSTRAINT `members_room` FOREIGN KEY (`room_id`) REFERENCES `rooms` (`id`),
  CONSTRAINT `members_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `members` VALUES ('r79fvi38rfu72',1,0,1795803519539);
INSERT INTO `members` VALUES ('r79fvi38rfu72',3,0,1795803519540);
INSERT INTO `members` VALUES ('rgnv55dj7y89m',1,0,1795803518589);
INSERT INTO `members` VALUES ('rgnv55dj7y89m',2,0,1795803519062);
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `messages` (
  `room_id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `seq` bigint(20) NOT NULL,
  `sender_id` bigint(20) NOT NULL,
  `text` text NOT NULL,
  `ts` bigint(20) NOT NULL,
  `client_id` varbinary(256) NOT NULL,
  PRIMARY KEY (`room_id`,`seq`),
  UNIQUE KEY `messages_client_id` (`room_id`,`sender_id`,`client_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `messages` VALUES ('r79fvi38rfu72',1,1,'a direct word, carol',1795803519971,0x642D31);
INSERT INTO `messages` VALUES ('r79fvi38rfu72',2,3,'got it',1795803520003,0x642D32);
INSERT INTO `messages` VALUES ('rgnv55dj7y89m',1,1,'hello @bob, welcome',1795803519139,0x612D31);
INSERT INTO `messages` VALUES ('rgnv55dj7y89m',2,2,'thanks alice 😀',1795803519273,0x622D31);
INSERT INTO `messages` VALUES ('rgnv55dj7y89m',3,1,'trimmed both ends',1795803519335,0x612D32);
INSERT INTO `messages` VALUES ('rgnv55dj7y89m',4,2,'Ünïcödé and emoji 👨‍👩‍👧',1795803519411,0x622D32);
INSERT INTO `messages` VALUES ('rgnv55dj7y89m',5,1,'no client id',1795803519429,0x7372762D3335323336376161376234363463616461626431646533303662623966343236);
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `rooms` (
  `id` varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `name` varchar(64) NOT NULL,
  `kind` varchar(8) NOT NULL,
  `user_a` bigint(20) DEFAULT NULL,
  `user_b` bigint(20) DEFAULT NULL,
  `last_seq` bigint(20) NOT NULL DEFAULT 0,
  `created_by` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `rooms_direct_pair` (`user_a`,`user_b`),
  KEY `rooms_by_kind` (`kind`,`created_at`),
  KEY `rooms_user_b` (`user_b`),
  CONSTRAINT `rooms_user_a` FOREIGN KEY (`user_a`) REFERENCES `users` (`id`),
  CONSTRAINT `rooms_user_b` FOREIGN KEY (`user_b`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `rooms` VALUES ('r79fvi38rfu72','','direct',1,3,2,1,1795803519539);
INSERT INTO `rooms` VALUES ('rgnv55dj7y89m','Général ☕','group',NULL,NULL,5,1,1795803518587);
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `schema_migrations` (
  `version` int(11) NOT NULL,
  `description` varchar(200) NOT NULL,
  `applied_at` bigint(20) NOT NULL,
  PRIMARY KEY (`version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `schema_migrations` VALUES (1,'users, sessions, rooms, members, messages',1795803516235);
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `sessions` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `token_hash` varbinary(64) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `sessions_token` (`token_hash`),
  KEY `sessions_by_user` (`user_id`),
  CONSTRAINT `sessions_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `sessions` VALUES (1,0x897E22C37CE615337F97C69676F7FA9A37F87F3493AA7CB82334841EA1B3464D,1,1795803516995,1798395516977);
INSERT INTO `sessions` VALUES (2,0xD17868ED509DF1EE79A6B34A92055F9B40A78A7D5E1324B49A1752A8DB23AC2B,2,1795803517432,1798395517412);
INSERT INTO `sessions` VALUES (3,0xB848764F943958D4A6653AEC00D695B25E8128D6285127203CD59B7EB69C4176,3,1795803518187,1798395518187);
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `users` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `username` varchar(32) NOT NULL,
  `password_hash` varchar(512) NOT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'active',
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_username` (`username`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;
INSERT INTO `users` VALUES (1,'alice','$argon2id$v=19$m=19456,t=2,p=1$SQjkWBARupsWpOou3oRGug$wC8itc3QZDJk1vdh6a9j5FPc2zXoQO0CjJKjIBSDHKM','active',1795803516778);
INSERT INTO `users` VALUES (2,'bob','$argon2id$v=19$m=19456,t=2,p=1$uHGKSRyb6Lai+s7EEmddLQ$AhJMvJmVB1dkohjH90Eb7uK7eVZMrtVpCgQD7YwKW8U','active',1795803517239);
INSERT INTO `users` VALUES (3,'carol','$argon2id$v=19$m=19456,t=2,p=1$8NMAqUKYuDCHs2Gc45YecQ$LbCpgP18ND+DjYMMWbS7DZ76vLLe1pkCm9TTMitzHwI','active',1795803518089);
SET FOREIGN_KEY_CHECKS=1;
