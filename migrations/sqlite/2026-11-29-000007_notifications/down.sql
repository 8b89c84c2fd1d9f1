DROP TABLE notification_mutes;
DROP TABLE notifications;
